"""Plots of a run: one update's waterfall, latency across clients, stage percentiles and the
connections count over time.

Pure functions from data (timelines from :mod:`fanoutsim.tracing`, report dicts, lists of
numbers) to a matplotlib :class:`~matplotlib.figure.Figure`. They never touch pyplot's global
state, so the live widgets can draw from a background thread and nothing leaks between
cells. In a notebook, run ``%matplotlib inline`` once and a returned figure displays itself.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from fanoutsim.stages import STAGES
from fanoutsim.tracing import Timeline

__all__ = [
    "CLIENT_LEGEND",
    "COLOURS",
    "DESCRIPTIONS",
    "SHARED_STAGES",
    "Bar",
    "connections_figure",
    "end_to_end_ms",
    "latency_cdf_figure",
    "png",
    "post_starts",
    "provenance",
    "stages_figure",
    "waterfall_bars",
    "waterfall_figure",
]

#: Stages drawn once per update (name, start point, end point), from :mod:`fanoutsim.stages`.
SHARED_STAGES: Final = tuple(s for s in STAGES if s[2] not in ("post", "receipt"))
COLOURS: Final = {
    "eventbridge": "#d6336c",
    "view_model_write": "#1c7ed6",
    "stream_delay": "#0ca678",
    "batch_to_invoke": "#f59f00",
    "post": "#e8590c",
    "client_network": "#7048e8",
}
DESCRIPTIONS: Final = {
    "eventbridge": "PutEvents → flight_events starts",
    "view_model_write": "flight_events writes the view model",
    "stream_delay": "write → record read from the stream",
    "batch_to_invoke": "record → stream_fanout starts",
    "post": "stream_fanout starts → PostToConnection returns",
    "client_network": "post returns → client receives",
}


CLIENT_LEGEND: Final = {
    "post": "PostToConnection (its start inferred from the posts in flight)",
    "client_network": "post returned → client received the message",
}


def provenance(profile: str) -> str:
    """Where the times of a live run come from, for plot captions."""
    if profile == "instant":
        return "measured on this machine (time.perf_counter); profile 'instant' adds no delays"
    return f"measured on this machine plus the delays profile '{profile}' injects"


@dataclass(frozen=True)
class Bar:
    """One bar of a waterfall: ``stage`` from ``start_ms`` for ``duration_ms`` on row ``row``."""

    row: str
    stage: str
    start_ms: float
    duration_ms: float


def post_starts(start: float | None, ends: list[float], concurrency: int) -> list[float]:
    """When each post began, given when each returned (sorted) and how many the handler
    keeps in flight: a pool of ``concurrency`` slots takes the next post as soon as one
    returns, so the first ``concurrency`` posts begin with the handler and post ``i``
    when post ``i - concurrency`` returned (one after the other only at 1)."""
    slots = max(1, concurrency)
    first = start if start is not None else (ends[0] if ends else 0.0)
    return [first if i < slots else ends[i - slots] for i in range(len(ends))]


def waterfall_bars(
    timeline: Timeline, max_clients: int = 12, concurrency: int = 1
) -> tuple[list[Bar], int]:
    """The bars of one update's waterfall (ms after ``put_events``), and how many clients
    were left out to keep at most ``max_clients`` client rows (the first and the last
    posted are kept: the loop's start and its tail). Each post's start is inferred from
    the handler's ``concurrency`` (:func:`post_starts`); its end is measured."""
    points = timeline.points
    if "put_events" not in points:
        return [], 0
    origin = points["put_events"]
    bars = [
        Bar(name, name, (points[a] - origin) * 1000, (points[b] - points[a]) * 1000)
        for name, a, b in SHARED_STAGES
        if a in points and b in points
    ]
    posts = timeline.per_connection["post"]
    receipts = timeline.per_connection["receipt"]
    order = sorted(posts, key=posts.__getitem__)
    began = dict(
        zip(
            order,
            post_starts(points.get("fanout_start"), [posts[c] for c in order], concurrency),
            strict=True,
        )
    )
    hidden = max(0, len(order) - max_clients)
    if hidden:
        head = max_clients // 2
        order = order[:head] + order[len(order) - (max_clients - head) :]
    for client in order:
        begin = began[client]
        bars.append(Bar(client, "post", (begin - origin) * 1000, (posts[client] - begin) * 1000))
        if client in receipts:
            bars.append(
                Bar(
                    client,
                    "client_network",
                    (posts[client] - origin) * 1000,
                    (receipts[client] - posts[client]) * 1000,
                )
            )
    return bars, hidden


def waterfall_figure(
    timeline: Timeline,
    *,
    max_clients: int = 12,
    source: str = "measured on this machine",
    concurrency: int = 1,
    width_in: float = 9.0,
    fontsize: int = 8,
) -> Figure:
    """A Gantt chart of one update: the shared stages, then one row per client (post, then
    delivery). ``source`` says where the times come from (see :func:`provenance`);
    ``concurrency``: how many posts the handler keeps in flight (``sim.options.post_concurrency``).
    ``width_in`` and ``fontsize``: draw it for the space it gets (at 80 dpi a figure 7
    inches wide fills 560 pixels without being scaled down); under 8 inches the stages
    get their short names."""
    bars, hidden = waterfall_bars(timeline, max_clients, concurrency)
    rows = list(dict.fromkeys(bar.row for bar in bars))
    row_in = 0.28 * fontsize / 8
    fig = Figure(figsize=(width_in, 1.2 + row_in * max(len(rows), 4)), layout="constrained")
    ax = fig.subplots()
    for bar in bars:
        ax.barh(
            rows.index(bar.row),
            max(bar.duration_ms, 0.01),
            left=bar.start_ms,
            color=COLOURS[bar.stage],
            height=0.6,
        )
    names = DESCRIPTIONS if width_in >= 8 else {k: k.replace("_", " ") for k in DESCRIPTIONS}
    ax.set_yticks(
        range(len(rows)),
        [names.get(r, r) if r in COLOURS else f"client {r}" for r in rows],
        fontsize=fontsize,
    )
    ax.tick_params(axis="x", labelsize=fontsize)
    ax.invert_yaxis()
    ax.set_xlabel("ms after PutEvents", fontsize=fontsize)
    more = f"; {hidden} more clients not shown" if hidden else ""
    pace = "one at a time" if concurrency <= 1 else f"up to {concurrency} at once"
    title = f"Update {timeline.trace_id}: {len(timeline.per_connection['post'])} posts, {pace}"
    # centred over the axes, beside the row labels: about 95 characters fit a 9-inch figure
    # at 9 points; wrap the rest rather than cut it off at the figure's edges
    columns = int(width_in * 95 / (fontsize + 1))
    ax.set_title(
        "\n".join(textwrap.wrap(f"{title}{more}", columns) + textwrap.wrap(source, columns)),
        fontsize=fontsize + 1,
    )
    if hidden:
        split = len(SHARED_STAGES) + max_clients // 2 - 0.5
        ax.axhline(split, color="#868e96", linestyle="--", linewidth=1)
    legend = [Patch(color=COLOURS[s], label=text) for s, text in CLIENT_LEGEND.items()]
    fig.legend(
        handles=legend,
        fontsize=fontsize - 1,
        loc="outside lower center",
        ncols=2 if width_in >= 8 else 1,
    )
    if not bars:
        ax.text(0.5, 0.5, "no stamps yet for this update", ha="center", transform=ax.transAxes)
    return fig


def end_to_end_ms(timelines: Iterable[Timeline]) -> list[float]:
    """PutEvents → receipt, one value per (update, client) that received it."""
    return [v for t in timelines for v in t.durations_ms("put_events", "receipt")]


def latency_cdf_figure(
    series: Mapping[str, Sequence[float]], *, source: str = "measured on this machine"
) -> Figure:
    """Empirical CDF of latencies (ms), one line per series; dashed: p50, dotted: p95, p99."""
    fig = Figure(figsize=(8, 4), layout="constrained")
    ax = fig.subplots()
    for label, values in series.items():
        data = np.sort(np.asarray(values, dtype=float))
        if not len(data):
            continue
        fraction = np.arange(1, len(data) + 1) / len(data)
        p50, p95, p99 = (float(np.percentile(data, q)) for q in (50, 95, 99))
        name = f"{label} (n={len(data)}): p50 {p50:.1f}, p95 {p95:.1f}, p99 {p99:.1f} ms"
        (line,) = ax.step(data, fraction, where="post", label=name)
        for at, style in ((p50, "--"), (p95, ":"), (p99, ":")):
            ax.axvline(at, color=line.get_color(), linestyle=style, linewidth=1)
    ax.set_xlabel("latency (ms)")
    ax.set_ylabel("fraction of deliveries")
    ax.set_ylim(0, 1.05)
    ax.grid(alpha=0.3)
    ax.set_title(f"Latency CDF across clients\n{source}", fontsize=9)
    if ax.get_lines():
        ax.legend(fontsize=8, loc="lower right")
    return fig


def stages_figure(
    stages: Mapping[str, Mapping[str, Any]], *, source: str = "measured on this machine"
) -> Figure:
    """p50 bars with p95/p99 ticks per stage, from a report's ``"stages"`` dict."""
    names = [n for n, stats in stages.items() if stats.get("p50") is not None]
    fig = Figure(figsize=(8, 0.9 + 0.4 * max(len(names), 3)), layout="constrained")
    ax = fig.subplots()
    for row, name in enumerate(names):
        stats = stages[name]
        ax.barh(row, stats["p50"], color=COLOURS.get(name, "#495057"), height=0.6)
        for key, marker in (("p95", "|"), ("p99", "x")):
            ax.plot(stats[key], row, marker=marker, color="black", markersize=8)
    ax.set_yticks(range(len(names)), [f"{n} (n={stages[n]['count']})" for n in names], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("ms  (bar: p50, |: p95, x: p99)")
    ax.set_title(f"Per-stage latency\n{source}", fontsize=9)
    return fig


def connections_figure(history: Sequence[tuple[str, int, int]]) -> Figure:
    """Rows in the connections table and connected clients after each step, from
    (step label, rows, clients) tuples: where the lines part, rows are stale."""
    fig = Figure(figsize=(8, 3), layout="constrained")
    ax = fig.subplots()
    steps = range(len(history))
    for index, (label, colour, style) in enumerate(
        (
            ("rows in the connections table (Scan)", "#1c7ed6", "-"),
            ("connected clients", "#e8590c", "--"),
        ),
        start=1,
    ):
        counts = [entry[index] for entry in history]
        ax.plot(steps, counts, style, marker="o", color=colour, label=label, drawstyle="steps-mid")
    ax.set_xticks(steps, [entry[0] for entry in history], fontsize=8, rotation=20, ha="right")
    ax.set_ylim(0, max((max(e[1], e[2]) for e in history), default=0) + 1)
    ax.set_title("Connections table versus connected clients, after each step", fontsize=9)
    ax.legend(fontsize=8, loc="upper right")
    ax.grid(alpha=0.3)
    return fig


def png(fig: Figure, dpi: int = 80) -> bytes:
    """The figure as PNG bytes (for an ``ipywidgets.Image``)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()
