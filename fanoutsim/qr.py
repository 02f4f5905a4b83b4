"""QR codes of the room's address, for a phone's camera: as text for a terminal and as
SVG for a notebook (segno, pure Python, nothing downloaded)."""

from __future__ import annotations

import io

import segno

__all__ = ["qr_svg", "qr_text"]


def qr_text(url: str) -> str:
    """``url`` as a QR code in half-block characters (two modules a character row), with
    the quiet zone a scanner needs. Drawn for a dark terminal: the blocks are the light
    modules; phone cameras read the inverted code a light terminal shows as well."""
    matrix = [list(row) for row in segno.make(url, error="m").matrix]
    size = len(matrix)
    border = 2
    light = [[0] * (size + 2 * border) for _ in range(border)]
    rows = light + [[0] * border + row + [0] * border for row in matrix] + light
    if len(rows) % 2:
        rows.append([0] * len(rows[0]))
    glyphs = {(0, 0): "█", (1, 0): "▄", (0, 1): "▀", (1, 1): " "}
    return "\n".join(
        "".join(glyphs[top, bottom] for top, bottom in zip(upper, lower, strict=True))
        for upper, lower in zip(rows[::2], rows[1::2], strict=True)
    )


def qr_svg(url: str, size_px: int = 260) -> str:
    """``url`` as an SVG QR code about ``size_px`` wide (big enough for the back row when
    projected)."""
    code = segno.make(url, error="m")
    modules = code.symbol_size(scale=1, border=4)[0]
    out = io.BytesIO()
    code.save(out, kind="svg", scale=max(1, size_px // modules), border=4, xmldecl=False)
    return out.getvalue().decode()
