"""The request parser against a well-kept one: on a fuzz corpus of request heads, h11 (the
sans-I/O HTTP/1.1 parser under httpx and uvicorn) is the reference.

What is checked, for every head hypothesis generates from a grammar of near-misses
(duplicate or signed or Unicode ``Content-Length``, ``Transfer-Encoding``, stray spaces,
control characters, bare line feeds, bad versions): the parser either refuses it with
:class:`ValidationError` (answered 400) or reads exactly what h11 reads (method, target,
headers, body length); it never raises anything else and never accepts what h11 refuses.
The only requests it refuses that h11 accepts are the documented ones: a
``Transfer-Encoding`` (chunked bodies are not served), a line ended by a bare LF and the
others :func:`_documented_refusal` names. 15 heads per ``FANOUTSIM_FUZZ_EXAMPLES`` (600 by
default; ``bench/fuzz_edges.py`` runs many more).

Source: RFC 9112 (HTTP/1.1 message syntax: sections 2.2, 3, 5 and 6.3 on message framing,
where ``Transfer-Encoding`` beside ``Content-Length`` is a smuggling vector).
"""

from __future__ import annotations

from urllib.parse import urlsplit

import h11
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fanoutsim.errors import ValidationError
from fanoutsim.runtime.http_server import parse_head
from tests.runtime.test_fuzz_edges import EXAMPLES

_ODD = '\x00\t\x0b\x7f\x80\xa0\xb2\xff "(),/:;<=>?@[\\]{}'
_TOKEN = st.text("abcXYZ019-_.!#$%&'*+^`|~", min_size=1, max_size=8)
_WILD = st.text(_ODD + "aZ09", max_size=4)


def _mostly(good: st.SearchStrategy[str], odd: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """``good`` four times in five: most heads get far enough to test the later rules."""
    return st.one_of(good, good, good, good, odd)


_METHODS = _mostly(st.sampled_from(["GET", "POST", "DELETE", "get"]), st.one_of(_TOKEN, _WILD))
_TARGETS = _mostly(
    st.sampled_from(["/", "/flights?x=1", "/prod/%40connections/a%3D", "*", "http://h/x"]),
    st.builds(lambda a, b: "/" + a + b, _TOKEN, _WILD),
)
_VERSIONS = _mostly(
    st.just("HTTP/1.1"), st.sampled_from(["HTTP/1.0", "HTTP/2.0", "http/1.1", "HTTP/1.x", ""])
)
_LENGTHS = st.sampled_from(["5", "05", " 5 ", "-1", "+5", "5, 5", "\xb2", "5 5", "0x5", ""])
_NAMES = st.one_of(
    st.sampled_from(["Host", "Content-Length", "Transfer-Encoding", "Connection", "X-A"]),
    _TOKEN,
    st.builds(lambda a, b: a + b, _TOKEN, _WILD),
)
_VALUES = st.one_of(_LENGTHS, st.sampled_from(["chunked", "close", "h"]), _WILD, _TOKEN)
_NEAR_MISS = st.tuples(_NAMES, st.sampled_from([": ", ":", " :", "", ":\t"]), _VALUES)
_GOOD = st.tuples(_TOKEN, st.just(": "), st.one_of(_TOKEN, st.sampled_from(["5", "a b", "\xe9"])))
_HEADER = st.one_of(_GOOD, _GOOD, _GOOD, _GOOD, _NEAR_MISS)


@st.composite
def _heads(draw: st.DrawFn) -> str:
    line = f"{draw(_METHODS)} {draw(_TARGETS)} {draw(_VERSIONS)}"
    if draw(st.integers(0, 5)) == 0:
        line = line.replace(" ", draw(st.sampled_from(["  ", "\t", ""])), 1)
    lines = [line]
    if draw(st.integers(0, 5)):
        lines.append("Host: h")
    lines += [f"{n}{sep}{v}" for n, sep, v in draw(st.lists(_HEADER, max_size=4))]
    eols = ["\r\n"] * len(lines)
    if len(lines) > 1 and draw(st.integers(0, 4)) == 0:
        eols[draw(st.integers(1, len(lines) - 1))] = draw(st.sampled_from(["\n", "\r"]))
    return "".join(eol + line for eol, line in zip(eols, lines, strict=True))[2:]


Reading = tuple[str, str, str, dict[str, str], int]


def _h11_reads(head: bytes) -> Reading | None:
    """What h11 makes of the head (method, path, query, last value per header, body length),
    or None when it refuses it."""
    connection = h11.Connection(h11.SERVER)
    connection.receive_data(head + b"\r\n\r\n" + b"x" * 10)
    try:
        event = connection.next_event()
    except h11.RemoteProtocolError:
        return None
    if not isinstance(event, h11.Request):
        return None  # still waiting: the head never ended, as h11 reads it
    headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in event.headers}
    length = int(headers.get("content-length", "0"))
    url = urlsplit(event.target.decode("latin-1"))
    return event.method.decode("latin-1"), url.path, url.query, headers, length


def _ours(head: bytes) -> Reading | None:
    try:
        request, length = parse_head(head, "127.0.0.1")
    except ValidationError:
        return None
    return request.method, request.raw_path, request.query, dict(request.headers), length


def _documented_refusal(head: str) -> bool:
    """A head h11 accepts that the parser refuses on purpose (RFC 9112 lets a server refuse
    each): a ``Transfer-Encoding``, a line not ended by CRLF, a version other than 1.0 or
    1.1, a repeated ``Content-Length`` even with equal values (as a second field or as a
    list in one, RFC 9110 section 8.6 lets a recipient refuse both), a control character
    in a value, a folded line."""
    if "\n" in head.replace("\r\n", "") or "\r" in head.replace("\r\n", ""):
        return True
    request_line, *lines = head.split("\r\n")
    names = [line.partition(":")[0].lower() for line in lines]
    return (
        not request_line.endswith((" HTTP/1.0", " HTTP/1.1"))
        or "transfer-encoding" in names
        or names.count("content-length") > 1
        or any(n == "content-length" and "," in line for n, line in zip(names, lines, strict=True))
        or any((ord(c) < 0x20 and c != "\t") or c == "\x7f" for c in "".join(lines))
        or any(line[:1] in (" ", "\t") for line in lines)
    )


@settings(max_examples=15 * EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_heads())
def test_the_parser_reads_what_h11_reads_or_refuses_it(head: str) -> None:
    raw = head.encode("latin-1")
    reference = _h11_reads(raw)
    ours = _ours(raw)  # raises nothing but ValidationError
    if ours is not None:
        assert reference is not None, f"accepted what h11 refuses: {head!r}"
        assert ours == reference
    elif reference is not None:
        assert _documented_refusal(head), f"refused what h11 accepts: {head!r}"


@pytest.mark.parametrize(
    "head",
    [
        "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: \xb2",  # a Unicode digit
        "POST / HTTP/1.1\r\nHost: h\r\nX Y: 1",  # a space inside a header name
        "GET /a\x00 HTTP/1.1\r\nHost: h",  # a NUL in the target
        "GET / HTTP/1.1",  # HTTP/1.1 without Host
        "GET / HTTP/1.0\r\nHost: h\r\nHost: 5",  # two Hosts, whatever the version
    ],
)
def test_near_misses_are_refused(head: str) -> None:
    assert _h11_reads(head.encode("latin-1")) is None
    with pytest.raises(ValidationError):
        parse_head(head.encode("latin-1"), "127.0.0.1")


def test_a_header_behind_a_bare_line_feed_is_refused_where_h11_would_read_it() -> None:
    head = b"POST / HTTP/1.1\r\nHost: h\r\nX: a\nContent-Length: 5"
    assert _h11_reads(head) is not None  # h11 splits lines at a bare LF too
    with pytest.raises(ValidationError):
        parse_head(head, "127.0.0.1")
