"""Text made safe for a notebook's HTML output: HTML-escaped, and every ``$`` written as an
entity, because JupyterLab typesets ``$...$`` in HTML output as math (a price list such as
"$1.00 per million ... $0.80" would otherwise lose its dollars and spaces)."""

from __future__ import annotations

import html

__all__ = ["escape"]


def escape(text: object) -> str:
    """``text`` as HTML that renders as written, dollars included."""
    return html.escape(str(text)).replace("$", "&#36;")
