"""Plots and HTML views: checked on their contents (bars, labels, rows), not on pixels."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import pytest
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Rectangle

from fanoutsim.notebook import architecture, views, viz
from fanoutsim.stages import POINTS
from fanoutsim.tracing import Timeline


def _timeline(clients: int, *, received: bool = True) -> Timeline:
    """An update at t=10 s: shared stages 1 ms apart, then one post per client 2 ms apart,
    each received 0.5 ms after its post."""
    t = Timeline("trace-1")
    for i, point in enumerate(
        (
            "put_events",
            "handler_start",
            "table_write",
            "handler_end",
            "stream_record",
            "fanout_start",
        )
    ):
        t.points[point] = 10 + i / 1000
    for c in range(clients):
        name = f"c{c:05d}"
        t.per_connection["post"][name] = 10.005 + 0.002 * (c + 1)
        if received:
            t.per_connection["receipt"][name] = t.per_connection["post"][name] + 0.0005
    return t


def _bars(fig: Any) -> list[Rectangle]:
    return [p for p in fig.axes[0].patches if isinstance(p, Rectangle)]


# --- architecture ----------------------------------------------------------------------


def test_architecture_draws_every_service_and_call() -> None:
    fig = architecture.architecture_figure()
    ax = fig.axes[0]
    boxes = [p for p in ax.patches if isinstance(p, FancyBboxPatch)]
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    assert len(boxes) == len(architecture.NODES) == 10
    assert len(arrows) == len(architecture.EDGES)
    texts = {t.get_text() for t in ax.texts}
    assert {n.label for n in architecture.NODES.values()} <= texts
    assert "7. PostToConnection\nfor each of N clients" in texts
    assert "$connect /\n$disconnect" in texts  # shown literally, not as mathtext


def test_update_path_is_numbered_one_to_eight_in_order() -> None:
    steps = sorted((e.step, e.source, e.target) for e in architecture.EDGES if e.step)
    assert [s for s, _, _ in steps] == list(range(1, 9))
    path = [steps[0][1]] + [target for _, _, target in steps]
    assert path[0] == "producer" and path[-1] == "clients"
    assert "connections" in path and "mapping" in path


def test_focus_fades_everything_outside_it() -> None:
    fig = architecture.architecture_figure(focus="connect")
    arrows = [p for p in fig.axes[0].patches if isinstance(p, FancyArrowPatch)]
    bright = {
        e.label for e, a in zip(architecture.EDGES, arrows, strict=True) if a.get_alpha() == 1.0
    }
    assert bright == {e.label for e in architecture.EDGES if e.focus == "connect"}
    assert "in focus: connect" in fig.axes[0].get_title()


# --- waterfall ---------------------------------------------------------------------------


def test_waterfall_has_the_shared_stages_then_a_post_and_a_delivery_per_client() -> None:
    bars, hidden = viz.waterfall_bars(_timeline(3))
    assert hidden == 0
    assert [b.stage for b in bars[:4]] == [
        "eventbridge",
        "view_model_write",
        "stream_delay",
        "batch_to_invoke",
    ]
    assert [b.start_ms for b in bars[:4]] == pytest.approx([0, 1, 2, 4])
    per_client = bars[4:]
    assert [(b.row, b.stage) for b in per_client[:2]] == [
        ("c00000", "post"),
        ("c00000", "client_network"),
    ]
    posts = [b for b in per_client if b.stage == "post"]
    # sequential loop: the first post starts with the function, each next one when the
    # previous returned
    assert posts[0].start_ms == pytest.approx(5)
    assert [b.duration_ms for b in posts] == pytest.approx([2, 2, 2])
    assert posts[1].start_ms == pytest.approx(posts[0].start_ms + posts[0].duration_ms)
    assert all(
        b.duration_ms == pytest.approx(0.5) for b in per_client if b.stage == "client_network"
    )


def test_waterfall_caps_client_rows_keeping_the_first_and_the_last() -> None:
    bars, hidden = viz.waterfall_bars(_timeline(30), max_clients=6)
    rows = list(dict.fromkeys(b.row for b in bars if b.stage == "post"))
    assert hidden == 24
    assert rows == ["c00000", "c00001", "c00002", "c00027", "c00028", "c00029"]
    fig = viz.waterfall_figure(_timeline(30), max_clients=6)
    assert "24 more clients not shown" in fig.axes[0].get_title()
    assert len(_bars(fig)) == 4 + 6 * 2


def test_waterfall_figure_bars_labels_and_source() -> None:
    fig = viz.waterfall_figure(_timeline(3), source=viz.provenance("instant"))
    ax = fig.axes[0]
    assert len(_bars(fig)) == 4 + 3 * 2
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0] == viz.DESCRIPTIONS["eventbridge"]
    assert labels[4:] == ["client c00000", "client c00001", "client c00002"]
    assert "3 posts" in ax.get_title() and "adds no delays" in ax.get_title()
    assert ax.get_xlabel() == "ms after PutEvents"


def test_waterfall_of_an_update_in_flight_draws_what_is_known() -> None:
    partial = Timeline("t")
    partial.points.update({"put_events": 1.0, "handler_start": 1.002})
    fig = viz.waterfall_figure(partial)
    assert len(_bars(fig)) == 1
    empty = viz.waterfall_figure(Timeline("nothing"))
    assert "no stamps yet" in {t.get_text() for t in empty.axes[0].texts}.pop()


# --- latency, stages, connections ---------------------------------------------------------


def test_end_to_end_latencies_come_from_receipts_only() -> None:
    values = viz.end_to_end_ms([_timeline(3), _timeline(2, received=False)])
    assert values == pytest.approx([7.5, 9.5, 11.5])


def test_latency_cdf_has_one_line_per_series_and_marks_percentiles() -> None:
    fig = viz.latency_cdf_figure({"a": [1.0, 2.0, 3.0, 4.0], "b": [10.0] * 5, "empty": []})
    ax = fig.axes[0]
    steps = [line for line in ax.get_lines() if len(line.get_xdata()) > 2]
    assert len(steps) == 2
    assert sorted(steps[0].get_xdata()) == [1.0, 2.0, 3.0, 4.0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "a (n=4): p50 2.5, p95 3.8, p99 4.0 ms",
        "b (n=5): p50 10.0, p95 10.0, p99 10.0 ms",
    ]
    marks = [line for line in ax.get_lines() if len(line.get_xdata()) == 2]
    assert sorted(line.get_xdata()[0] for line in marks) == pytest.approx(
        [2.5, 3.85, 3.97, 10, 10, 10]
    )


def test_stages_figure_skips_empty_stages() -> None:
    stages = {
        "eventbridge": {"count": 2, "p50": 3.0, "p95": 4.0, "p99": 5.0},
        "post": {"count": 0, "p50": None, "p95": None, "p99": None},
    }
    fig = viz.stages_figure(stages)
    assert len(_bars(fig)) == 1
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["eventbridge (n=2)"]


def test_connections_figure_draws_rows_and_clients() -> None:
    fig = viz.connections_figure([("start", 0, 0), ("add 5", 5, 5), ("sever 1", 5, 4)])
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["start", "add 5", "sever 1"]
    rows, clients = ax.get_lines()
    assert list(rows.get_ydata()) == [0, 5, 5] and list(clients.get_ydata()) == [0, 5, 4]
    assert "connected clients" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_png_is_a_png() -> None:
    assert viz.png(viz.connections_figure([("a", 1, 1)])).startswith(b"\x89PNG")


def test_stage_names_match_the_tracer() -> None:
    for name, start, end in viz.SHARED_STAGES:
        assert start in POINTS and end in POINTS and name in viz.COLOURS


# --- HTML views ----------------------------------------------------------------------------


@dataclass
class _Client:
    name: str
    board: dict[str, dict[str, Any]] = field(default_factory=dict)
    messages: int = 0
    duplicates: int = 0


def test_table_escapes_caps_and_counts() -> None:
    rows = [{"id": i, "note": "<b>x</b>"} for i in range(5)]
    markup = str(views.table(rows, max_rows=2, caption="t"))
    assert markup.count("<tr>") == 1 + 2  # header and two rows
    assert "&lt;b&gt;x&lt;/b&gt;" in markup and "<b>x</b>" not in markup
    assert "+3 more rows" in markup and "(5 rows)" in markup
    newest = str(views.table(rows, max_rows=2, newest_last=True))
    assert "<td" in newest and ">4<" in newest and ">0<" not in newest
    assert "(empty)" in str(views.table([]))


def test_board_marks_updated_flights_and_duplicates() -> None:
    client = _Client(
        "c00001",
        messages=3,
        duplicates=1,
        board={
            "FS101": {"event": "BOARDING", "eventDetails": "Group 1", "operation": "UPDATE"},
            "FS202": {"event": "SCHEDULED", "eventDetails": "", "operation": "CREATE"},
        },
    )
    markup = str(views.board(client))
    assert f'class="{views.BOARD_CLASS}"' in markup and 'data-client="c00001"' in markup
    assert markup.count(f'class="{views.UPDATED_CLASS}') == 1
    assert markup.index("FS101") < markup.index("FS202")
    assert "3 msg, 1 dup" in markup and "Group 1" in markup


def test_boards_grid_is_capped_with_a_more_tile() -> None:
    markup = str(views.boards([_Client(f"c{i}") for i in range(7)], limit=5))
    assert markup.count(f'class="{views.BOARD_CLASS}"') == 5
    assert "+2 more" in markup
    assert "no clients connected" in str(views.boards([]))


def test_rows_of_tables_records_and_invocations() -> None:
    conn = views.connection_rows(
        [{"connectionId": "b=", "connectedAt": 2}, {"connectionId": "a=", "connectedAt": 1}],
        {"a=": "c00001"},
    )
    assert [(r["connectionId"], r["client"]) for r in conn] == [("a=", "c00001"), ("b=", "(gone)")]
    flights = views.flight_rows([{"flightId": "FS2", "traceId": "x"}, {"flightId": "FS1"}])
    assert flights == [{"flight": "FS1"}, {"flight": "FS2"}]  # no number: the id
    record = {
        "eventName": "MODIFY",
        "dynamodb": {
            "SequenceNumber": "7",
            "Keys": {"flightId": {"S": "FS1"}},
            "NewImage": {"event": {"S": "LANDED"}},
            "SizeBytes": 90,
        },
    }
    assert views.stream_rows([record]) == [
        {
            "SequenceNumber": "7",
            "eventName": "MODIFY",
            "flight": "FS1",
            "event": "LANDED",
            "SizeBytes": 90,
        }
    ]


@dataclass
class _Invocation:
    function: str
    started: float
    result: Any = None
    error: str | None = None
    cold: bool = False
    duration_ms: float = 1.25
    trace_ids: tuple[str, ...] = ()
    event: dict[str, Any] = field(default_factory=dict)


def test_invocation_rows_say_how_each_ended() -> None:
    rows = views.invocation_rows(
        [
            _Invocation("on_connect", 5.0, {"statusCode": 401}, cold=True),
            _Invocation("stream_fanout", 5.5, {"batchItemFailures": [{"itemIdentifier": "1"}]}),
            _Invocation("flight_events", 6.0, error="InvalidFlightEvent: unknown flight status"),
            _Invocation("flight_events", 6.25, {"result": "updated"}, trace_ids=("t1",)),
        ]
    )
    assert [r["outcome"] for r in rows] == [
        "statusCode 401",
        "batchItemFailures: 1",
        "InvalidFlightEvent: unknown flight status",
        "updated",
    ]
    assert [r["t (s)"] for r in rows] == ["0.000", "0.500", "1.000", "1.250"]
    assert rows[0]["cold"] == "cold" and rows[3]["traces"] == "t1"


def test_pretty_hides_what_it_is_asked_to() -> None:
    markup = str(views.pretty({"headers": {"a": 1}, "body": "<x>"}, hide=["headers"]))
    assert '"headers": "..."' in markup.replace("&quot;", '"')
    assert "&lt;x&gt;" in markup


def _record(sequence: str, flight: str, status: str) -> dict[str, Any]:
    return {
        "eventName": "MODIFY",
        "dynamodb": {
            "SequenceNumber": sequence,
            "Keys": {"flightId": {"S": flight}},
            "NewImage": {"flightId": {"S": flight}, "event": {"S": status}},
        },
    }


def test_batch_rows_name_the_records_and_the_reported_failures() -> None:
    records = [
        _record("1", "FS101", "BOARDING"),
        _record("2", "FS202", "LANDED"),
        _record("3", "FS303", "TOOK_OFF"),
    ]
    failed = {"batchItemFailures": [{"itemIdentifier": "2"}, {"itemIdentifier": "3"}]}
    rows = views.batch_rows(
        [
            _Invocation("flight_events", 1.0, event={"detail": {}}),
            _Invocation("stream_fanout", 2.0, failed, event={"Records": records}),
            _Invocation(
                "stream_fanout", 3.0, {"batchItemFailures": []}, event={"Records": records[1:]}
            ),
            _Invocation("stream_fanout", 4.0, error="RuntimeError: x", event={"Records": records}),
        ]
    )
    assert rows == [
        {
            "records": 3,
            "batch": "FS101 BOARDING, FS202 LANDED, FS303 TOOK_OFF",
            "batchItemFailures": "FS202 LANDED, FS303 TOOK_OFF",
        },
        {"records": 2, "batch": "FS202 LANDED, FS303 TOOK_OFF", "batchItemFailures": "none"},
        {
            "records": 3,
            "batch": "FS101 BOARDING, FS202 LANDED, FS303 TOOK_OFF",
            "batchItemFailures": "error",
        },
    ]


def test_post_starts_follow_the_handlers_pool() -> None:
    ends = [10.0, 11.0, 12.0, 13.0, 14.0]
    assert viz.post_starts(5.0, ends, 1) == [5.0, 10.0, 11.0, 12.0, 13.0]  # one at a time
    assert viz.post_starts(5.0, ends, 2) == [5.0, 5.0, 10.0, 11.0, 12.0]
    assert viz.post_starts(5.0, ends, 50) == [5.0] * 5  # all at once, as Promise.all


def test_at_the_default_concurrency_the_post_bars_overlap() -> None:
    bars, _ = viz.waterfall_bars(_timeline(5), concurrency=50)
    posts = sorted((b for b in bars if b.stage == "post"), key=lambda b: b.start_ms)
    assert len({b.start_ms for b in posts}) == 1  # every post began with the handler
    overlapping = [a.start_ms + a.duration_ms > b.start_ms for a, b in itertools.pairwise(posts)]
    assert all(overlapping)
    fig = viz.waterfall_figure(_timeline(5), concurrency=50)
    assert "up to 50 at once" in fig.axes[0].get_title()


def test_the_flights_view_leads_with_what_an_update_changes_and_fits_a_laptop() -> None:
    item = {
        "flightId": "14c3e502-0acf-5dae-87c4-34b7e60e0e48",
        "origin": "BOS",
        "dest": "ORD",
        "airlineCode": "FS",
        "flightNum": "202",
        "gate": "C12",
        "terminal": 2,
        "event": "DEPARTURE_DELAYED",
        "eventDetails": "Crew late, new departure 10:40",
        "type": "FlightStatus",
        "createdAt": "2026-12-06T00:19:41.177Z",
        "updatedAt": "2026-12-06T00:20:02.531Z",
        "expiresAt": 1796602781,
        "traceId": "abc",
    }
    (row,) = views.flight_rows([item])
    assert list(row)[:4] == ["flight", "event", "eventDetails", "updatedAt"]
    assert row["flight"] == "FS202" and "flightId" not in row
    assert row["updatedAt"] == "00:20:02.531" and "traceId" not in row
    # a cell can wrap only between words: its narrowest is its longest word (or header);
    # at the table's 12 px, about 7 px a character plus padding, the narrowest table
    # must fit what JupyterLab leaves of a 1366-pixel screen beside the file browser
    width = sum(max(len(k), *map(len, str(v).split())) * 7 + 12 for k, v in row.items())
    assert width < 1000, width
