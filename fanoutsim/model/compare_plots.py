"""Pictures of the comparison: cost and time to the last subscriber against N, and a map of
the cheapest pattern that works over N and the update rate.

A stretch where a pattern does not work at default quotas is drawn dotted and faded, so
the eye follows what can be bought without a quota request. Each figure names its price
file and the stage file in a footnote, as the model's own plots do.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.patches import Patch

from fanoutsim.model.compare import Comparison, compare
from fanoutsim.model.patterns import PATTERNS
from fanoutsim.stats import percentiles

__all__ = [
    "PATTERN_COLOURS",
    "Grid",
    "cheapest_map",
    "cost_against_n",
    "grid",
    "latency_against_n",
    "sweep",
]

PATTERN_COLOURS = {
    "apigw-websocket": "#d62728",
    "appsync-events": "#1f77b4",
    "appsync-graphql": "#9467bd",
    "iot-core": "#2ca02c",
    "polling": "#7f7f7f",
}
NONE_COLOUR = "#ffffff"


def sweep(
    subscribers: Sequence[int],
    progress: Callable[[int], None] | None = None,
    *,
    per_flight_share: float | None = None,
    **question: Any,
) -> list[Comparison]:
    """One :func:`compare` per N, the rest of the question fixed; ``per_flight_share``
    (0-1] makes an update reach that share of the N subscribers (per-flight interest)."""
    out = []
    for n in subscribers:
        if per_flight_share is not None:
            question["subscriptions_per_flight"] = per_flight_share * n
        out.append(compare(int(n), **question))
        if progress:
            progress(1)
    return out


@dataclass(frozen=True)
class Grid:
    """The cheapest feasible pattern for each (updates a minute, N): an index into
    :data:`PATTERNS` order, or -1 where none works at default quotas."""

    subscribers: list[int]
    updates_per_minute: list[float]
    cheapest: np.ndarray
    max_delay_s: float | None = None


def grid(
    subscribers: Sequence[int],
    updates_per_minute: Sequence[float],
    progress: Callable[[int], None] | None = None,
    **question: Any,
) -> Grid:
    """Compare every pattern at every point of an N x U grid (long: give a progress)."""
    names = list(PATTERNS)
    cells = np.full((len(updates_per_minute), len(subscribers)), -1)
    for i, u in enumerate(updates_per_minute):
        for j, c in enumerate(sweep(subscribers, progress, updates_per_minute=u, **question)):
            best = c.cheapest()
            cells[i, j] = names.index(best.pattern) if c.works(best) else -1
    delay = question.get("max_delay_s")
    return Grid(list(subscribers), list(updates_per_minute), cells, delay)


def _layout() -> ConstrainedLayoutEngine:
    return ConstrainedLayoutEngine(rect=(0, 0.06, 1, 0.94))


def _footnote(fig: Figure, c: Comparison, dotted: bool = True) -> None:
    prices, stages = c.ctx.prices, c.ctx.stages
    fig.text(
        0.01,
        0.005,
        f"Prices: {prices.region}, as of {prices.as_of} ({prices.path.name}; each line's basis "
        f"in the --json output).\nStages: {stages.path.name} (AppSync and IoT Core fan-out "
        "times are assumptions)."
        + (" Dotted: needs a quota raised (or misses the delay target)." if dotted else ""),
        fontsize=7,
        color="#555555",
        ha="left",
        va="bottom",
    )


def _against_n(
    runs: list[Comparison],
    value: Callable[[Comparison, str], float],
    ylabel: str,
    title: str,
    mark: int | None,
) -> Figure:
    fig = Figure(figsize=(7.5, 4.4), layout=_layout())
    ax = fig.subplots()
    n = np.array([c.ask.subscribers for c in runs], dtype=float)
    for name in runs[0].results:
        y = np.array([value(c, name) for c in runs])
        ok = np.array([c.works(c[name]) for c in runs])
        colour = PATTERN_COLOURS.get(name, "#000000")
        ax.plot(n, np.where(ok, y, np.nan), color=colour, lw=2, label=name)
        # The infeasible stretch, joined to the last feasible point so the line continues.
        bad = ~ok | np.r_[~ok[1:], False] | np.r_[False, ~ok[:-1]]
        ax.plot(n, np.where(bad, y, np.nan), color=colour, lw=1.5, ls=":", alpha=0.6)
    if mark is not None:
        ax.axvline(mark, color="#333333", lw=0.8, ls="--")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("subscribers N")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.grid(True, which="major", alpha=0.3)
    handles, labels = ax.get_legend_handles_labels()
    handles.append(ax.plot([], [], color="#333333", ls=":", alpha=0.6)[0])
    labels.append("does not work as asked")
    ax.legend(handles, labels, fontsize=8, loc="upper left")
    _footnote(fig, runs[0])
    return fig


def cost_against_n(runs: list[Comparison], mark: int | None = None) -> Figure:
    """Monthly cost (data transfer included) against N, one line per pattern; a dashed
    line marks N = ``mark``."""
    a = runs[0].ask
    return _against_n(
        runs,
        lambda c, name: c[name].total(with_transfer=True),
        "USD a month (with data transfer out)",
        f"Cost a month at {a.updates_per_minute:g} updates/min, {a.payload_kb:g} KB",
        mark,
    )


def _p50_last(c: Comparison, name: str) -> float:
    value = percentiles(c[name].time_to_last_ms)["p50"]
    return float(value) / 1000 if value is not None else np.nan


def latency_against_n(runs: list[Comparison], mark: int | None = None) -> Figure:
    """Median time to the last subscriber against N (seconds, log scale)."""
    a = runs[0].ask
    return _against_n(
        runs,
        _p50_last,
        "time to the last subscriber, p50 (s)",
        f"Time to the last subscriber at {a.updates_per_minute:g} updates/min",
        mark,
    )


def cheapest_map(g: Grid, example: Comparison) -> Figure:
    """Which pattern is cheapest and works at default quotas, over N and the update rate."""
    names = list(PATTERNS)
    colours = [NONE_COLOUR, *(PATTERN_COLOURS[n] for n in names)]
    fig = Figure(figsize=(7.5, 4.4), layout=_layout())
    ax = fig.subplots()
    ax.pcolormesh(
        _edges(g.subscribers),
        _edges(g.updates_per_minute),
        g.cheapest + 1,
        cmap=ListedColormap(colours),
        vmin=-0.5,
        vmax=len(names) + 0.5,
        shading="flat",
    )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("subscribers N")
    ax.set_ylabel("updates a minute")
    target = g.max_delay_s
    wanted = f", last subscriber within {target:g} s" if target else ""
    ax.set_title(f"Cheapest pattern that works at default quotas{wanted}", fontsize=10)
    shown = sorted(set(g.cheapest.ravel().tolist()))
    patches = [
        Patch(facecolor=colours[k + 1], edgecolor="#999999", label=names[k] if k >= 0 else "none")
        for k in shown
    ]
    ax.legend(handles=patches, fontsize=8, loc="upper right")
    _footnote(fig, example, dotted=False)
    return fig


def _edges(values: Sequence[float]) -> np.ndarray:
    """Cell edges on a log axis: geometric midpoints, extended half a step outward."""
    v = np.log10(np.asarray(values, dtype=float))
    mid = (v[1:] + v[:-1]) / 2
    first = v[0] - (mid[0] - v[0]) if mid.size else v[0] - 0.5
    last = v[-1] + (v[-1] - mid[-1]) if mid.size else v[0] + 0.5
    edges: np.ndarray = np.power(10.0, np.r_[first, mid, last])
    return edges
