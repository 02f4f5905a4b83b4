"""HTML views of what the simulator holds: tables, JSON, and the clients' flight boards.

Pure functions from data to :class:`Html`, shared by the notebooks (an ``Html`` displays
itself in Jupyter) and the live widgets (``str(view)`` is the markup an ``ipywidgets.HTML``
takes); the ``*_view(sim)`` functions at the end are snapshots of a running simulator.
Every value is escaped; styles are inline so the markup renders the same in JupyterLab, in
a static notebook viewer and inside a widget.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

from fanoutsim.aws.stream_records import StreamRecord
from fanoutsim.functions.flight_model import flight_code
from fanoutsim.html_text import escape
from fanoutsim.stages import TRACE_FIELD

if TYPE_CHECKING:
    from fanoutsim.simulator import Simulator

__all__ = [
    "BOARD_CLASS",
    "FLIGHT_COLUMNS",
    "FLIGHT_HIDDEN",
    "LATEST_CLASS",
    "MORE_CLASS",
    "UPDATED_CLASS",
    "BoardHolder",
    "Html",
    "InvocationLike",
    "batch_rows",
    "board",
    "boards",
    "connection_rows",
    "connections_view",
    "event_log_view",
    "flight_rows",
    "flights_view",
    "invocation_rows",
    "pretty",
    "stream_rows",
    "stream_view",
    "table",
]

BOARD_CLASS = "fanoutsim-board"
"""CSS class of one client's board (the browser test looks for it)."""
UPDATED_CLASS = "fanoutsim-updated"
#: The row the client's newest update changed (highlighted).
LATEST_CLASS = "fanoutsim-latest"
"""CSS class of a board row whose flight has received a status update."""
MORE_CLASS = "fanoutsim-more"

_CELL = "padding:2px 8px;border-bottom:1px solid #ddd;text-align:left;vertical-align:top"
_BOARD_CELL = "padding:0 4px;text-align:left;border:none;background:none"
_STATUS_COLOURS = {
    "BOARDING": "#1a7f37",
    "DEPARTED_GATE": "#1a7f37",
    "TOOK_OFF": "#0969da",
    "LANDED": "#0969da",
    "ARRIVED_AT_GATE": "#0969da",
    "DEPARTURE_DELAYED": "#bf8700",
    "ARRIVAL_DELAYED": "#bf8700",
    "GATE_CHANGED": "#8250df",
    "CANCELLED": "#cf222e",
}


class Html:
    """A piece of markup: displays as HTML in Jupyter, ``str()`` gives the markup."""

    def __init__(self, markup: str) -> None:
        self.markup = markup

    def __str__(self) -> str:
        return self.markup

    def _repr_html_(self) -> str:
        return self.markup


class BoardHolder(Protocol):
    """What a board view needs from a client (``fanoutsim.runtime.subscribers.Subscriber``)."""

    name: str
    board: dict[str, dict[str, Any]]
    messages: int
    duplicates: int


def _text(value: Any) -> str:
    if isinstance(value, Decimal):
        value = int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict | list):
        value = json.dumps(value, default=str)
    return escape("" if value is None else str(value))


def table(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str] | None = None,
    *,
    max_rows: int = 20,
    caption: str = "",
    newest_last: bool = False,
) -> Html:
    """Rows as an HTML table (columns default to the union of the rows' keys, in order).

    Over ``max_rows`` rows, only the first ones are shown (the last ones if
    ``newest_last``) and a footer says how many were left out.
    """
    if columns is None:
        columns = list(dict.fromkeys(key for row in rows for key in row))
    shown = list(rows[-max_rows:] if newest_last else rows[:max_rows]) if max_rows else []
    hidden = len(rows) - len(shown)
    head = "".join(f'<th style="{_CELL}">{escape(c)}</th>' for c in columns)
    body = "".join(
        "<tr>" + "".join(f'<td style="{_CELL}">{_text(row.get(c))}</td>' for c in columns) + "</tr>"
        for row in shown
    )
    parts = ['<table style="border-collapse:collapse;font-size:12px;margin:4px 0">']
    if caption:
        parts.append(
            f'<caption style="text-align:left;font-weight:bold">{escape(caption)}'
            f" ({len(rows)} rows)</caption>"
        )
    parts.append(f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
    if hidden:
        where = "older" if newest_last else "more"
        parts.append(f'<div style="font-size:11px;color:#666">+{hidden} {where} rows</div>')
    if not rows:
        parts.append('<div style="font-size:11px;color:#666">(empty)</div>')
    return Html("".join(parts))


def pretty(obj: Any, *, hide: Iterable[str] = ()) -> Html:
    """JSON, indented, with the top-level keys in ``hide`` replaced by ``"..."``."""
    hidden = set(hide)
    if isinstance(obj, Mapping) and hidden:
        obj = {k: ("..." if k in hidden else v) for k, v in obj.items()}
    text = json.dumps(obj, indent=2, default=str)
    return Html(f'<pre style="font-size:12px;line-height:1.3">{escape(text)}</pre>')


def board(client: BoardHolder) -> Html:
    """One client's flight board: what its browser would show, flight by flight."""
    rows = []
    by_number = sorted(client.board.items(), key=lambda kv: flight_code(kv[1], kv[0]))
    for flight_id, payload in by_number:
        status = str(payload.get("event", ""))
        colour = _STATUS_COLOURS.get(status, "#57606a")
        updated = payload.get("operation") == "UPDATE"
        latest = flight_id == getattr(client, "last_changed", None) and updated
        classes = " ".join(c for c, on in ((UPDATED_CLASS, updated), (LATEST_CLASS, latest)) if on)
        css = f' class="{classes}"' if classes else ""
        if latest:  # the row the newest update changed, on every board at once
            css += ' style="background:#fff3b0"'
        details = _text(payload.get("eventDetails", ""))
        rows.append(
            f'<tr{css}><td style="{_BOARD_CELL};font-weight:bold" title="{_text(flight_id)}">'
            f"{_text(flight_code(payload, flight_id))}</td>"
            f'<td style="{_BOARD_CELL};color:{colour}" class="fanoutsim-status">'
            f"{_text(status)}</td>"
            f'<td style="{_BOARD_CELL};color:#57606a">{details}</td></tr>'
        )
    extra = f", {client.duplicates} dup" if client.duplicates else ""
    return Html(
        f'<div class="{BOARD_CLASS}" data-client="{_text(client.name)}" style="border:1px solid '
        "#d0d7de;border-radius:6px;padding:4px;min-width:210px;font-size:11px;"
        'background:#f6f8fa">'
        f'<div style="font-weight:bold">{_text(client.name)} '
        f'<span style="font-weight:normal;color:#57606a">{client.messages} msg{extra}</span></div>'
        f'<table style="border-collapse:collapse">{"".join(rows)}</table>'
        + ("" if rows else '<div style="color:#57606a">no flights yet</div>')
        + "</div>"
    )


def boards(clients: Iterable[BoardHolder], *, limit: int = 12) -> Html:
    """A grid of boards, at most ``limit`` of them, then a "+N more" tile."""
    everyone = list(clients)
    tiles = [str(board(c)) for c in everyone[:limit]]
    if len(everyone) > limit:
        tiles.append(
            f'<div class="{MORE_CLASS}" style="align-self:center;font-size:14px;color:#57606a">'
            f"+{len(everyone) - limit} more</div>"
        )
    if not everyone:
        tiles.append('<div style="color:#57606a">no clients connected</div>')
    return Html(f'<div style="display:flex;flex-wrap:wrap;gap:6px">{"".join(tiles)}</div>')


# --- rows for the tables ----------------------------------------------------------------


def connection_rows(
    items: Iterable[Mapping[str, Any]], labels: Mapping[str, str] | None = None
) -> list[dict[str, Any]]:
    """Connections table items, oldest first, with the client name the gateway knows."""
    labels = labels or {}
    rows = [
        {
            "connectionId": item["connectionId"],
            "client": labels.get(str(item["connectionId"]), "(gone)"),
            "connectedAt": item.get("connectedAt"),
            "ttl": item.get("ttl"),
        }
        for item in items
    ]
    return sorted(rows, key=lambda r: (int(r["connectedAt"] or 0), str(r["client"])))


#: The view model's attributes in the order a reader looks for them: what changes on an
#: update first (status, details, when), then the flight, then the bookkeeping.
FLIGHT_COLUMNS = (
    "flight",
    "event",
    "eventDetails",
    "updatedAt",
    "origin",
    "dest",
    "gate",
    "terminal",
    "createdAt",
    "expiresAt",
)
#: Attributes the view leaves out to fit a laptop's screen: the item type is always
#: ``FlightStatus``; the key, a UUID ``flightId``, and the airline code and number are
#: read as the ``flight`` column (``FS101``; the id where a flight has no number); the
#: status's ordering key is bookkeeping
#: (:func:`fanoutsim.functions.flight_model.status_version`).
FLIGHT_HIDDEN = ("type", "flightId", "airlineCode", "flightNum", "statusVersion")


def _time_of_day(value: Any) -> Any:
    """``2026-12-06T00:19:41.177Z`` as ``00:19:41.177`` (the table keeps the full string)."""
    text = str(value)
    return text[11:23] if len(text) >= 23 and text[10] == "T" else value


def flight_rows(items: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Flights table items (the view model) by flight id, without the tracing field: the
    attributes an update changes first, times of day (UTC) instead of full timestamps, so
    the table fits a 1366-pixel screen."""
    rows = []
    for item in items:
        item = {"flight": flight_code(item, str(item.get("flightId", "?"))), **item}
        known = [c for c in FLIGHT_COLUMNS if c in item]
        rest = [k for k in item if k not in (*FLIGHT_COLUMNS, *FLIGHT_HIDDEN, TRACE_FIELD)]
        row = {k: item[k] for k in (*known, *rest)}
        for key in ("createdAt", "updatedAt"):
            if key in row:
                row[key] = _time_of_day(row[key])
        rows.append(row)
    return sorted(rows, key=lambda r: str(r["flight"]))


def stream_rows(records: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Stream records (Lambda's shape) as one row each: sequence, kind, key, new status."""
    rows = []
    for record in records:
        change = record.get("dynamodb", {})
        image = change.get("NewImage", {})
        rows.append(
            {
                "SequenceNumber": change.get("SequenceNumber"),
                "eventName": record.get("eventName"),
                "flight": _record_flight(change),
                "event": image.get("event", {}).get("S"),
                "SizeBytes": change.get("SizeBytes"),
            }
        )
    return rows


class InvocationLike(Protocol):
    """What the event log needs from ``fanoutsim.runtime.function_runtime.Invocation``."""

    function: str
    event: dict[str, Any]
    cold: bool
    started: float
    duration_ms: float
    result: Any
    error: str | None
    trace_ids: tuple[str, ...]


def invocation_rows(
    invocations: Iterable[InvocationLike], *, since: float | None = None
) -> list[dict[str, Any]]:
    """Function invocations, oldest first: when (s after ``since``), what, how it ended."""
    items = list(invocations)
    origin = since if since is not None else min((i.started for i in items), default=0.0)
    return [
        {
            "t (s)": f"{i.started - origin:.3f}",
            "function": i.function,
            "cold": "cold" if i.cold else "",
            "ms": f"{i.duration_ms:.1f}",
            "outcome": i.error[:100] if i.error else _outcome(i.result),
            "traces": ", ".join(i.trace_ids),
        }
        for i in items
    ]


def _record_flight(change: Mapping[str, Any]) -> str:
    """A stream record's flight, readable: its number from the new image, else its key."""
    image = change.get("NewImage", {})
    number = {k: image[k].get("S", "") for k in ("airlineCode", "flightNum") if k in image}
    return flight_code(number, change.get("Keys", {}).get("flightId", {}).get("S", "?"))


def _record_label(record: Mapping[str, Any]) -> str:
    change = record.get("dynamodb", {})
    status = change.get("NewImage", {}).get("event", {}).get("S", "")
    return f"{_record_flight(change)} {status}".strip()


def batch_rows(invocations: Iterable[InvocationLike]) -> list[dict[str, Any]]:
    """The stream handler's batches, oldest first: the records it got (flight and new
    status) and the ones it reported in ``batchItemFailures``."""
    rows = []
    for invocation in invocations:
        records = invocation.event.get("Records")
        if invocation.function != "stream_fanout" or records is None:
            continue
        by_sequence = {StreamRecord(r).sequence_number: _record_label(r) for r in records}
        result = invocation.result if isinstance(invocation.result, Mapping) else {}
        failed = [
            by_sequence.get(f.get("itemIdentifier"), "?")
            for f in result.get("batchItemFailures") or []
        ]
        rows.append(
            {
                "records": len(records),
                "batch": ", ".join(by_sequence.values()),
                "batchItemFailures": ", ".join(failed) or ("error" if invocation.error else "none"),
            }
        )
    return rows


def _outcome(result: Any) -> str:
    if isinstance(result, Mapping):
        if "batchItemFailures" in result:
            return f"batchItemFailures: {len(result['batchItemFailures'])}"
        if "statusCode" in result:
            return f"statusCode {result['statusCode']}"
        if "result" in result:
            return str(result["result"])
    return "ok"


# --- snapshots of a running simulator -----------------------------------------------------


def connections_view(sim: Simulator, max_rows: int = 20) -> Html:
    """The connections table now, with each row's client name (from the gateway)."""
    labels = sim.clients.labels()
    rows = connection_rows(sim.connections(), labels)
    return table(rows, max_rows=max_rows, caption="connections table")


def flights_view(sim: Simulator, max_rows: int = 20) -> Html:
    """The flights table (the view model) now."""
    return table(
        flight_rows(sim.flights.rows()),
        max_rows=max_rows,
        caption="flights table (createdAt and updatedAt: time of day, UTC; not shown: "
        + ", ".join(FLIGHT_HIDDEN)
        + ")",
    )


def stream_view(sim: Simulator, max_rows: int = 20) -> Html:
    """The newest stream records the event source mapping has read."""
    rows = stream_rows(sim.stream.records())
    return table(rows, max_rows=max_rows, caption="stream records", newest_last=True)


def event_log_view(sim: Simulator, max_rows: int = 20) -> Html:
    """The newest function invocations: which function, cold or warm, how long, outcome."""
    rows = invocation_rows(sim.invocations())
    return table(rows, max_rows=max_rows, caption="function invocations", newest_last=True)
