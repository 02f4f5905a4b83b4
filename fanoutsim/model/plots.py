"""Figures of a sweep: monthly cost by service and time-to-last-subscriber against N.

Each figure carries a footnote naming the price table and timing profile it was drawn
with, so a screenshot still says where its numbers come from.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine

from fanoutsim.aws.pricing import SERVICES
from fanoutsim.model.explore import Sweep

__all__ = ["COLOURS", "STRATEGY_COLOURS", "cost_figure", "latency_figure"]

COLOURS = {
    "apigateway": "#8c564b",
    "lambda": "#ff7f0e",
    "dynamodb": "#1f77b4",
    "eventbridge": "#e377c2",
    "kinesis": "#17becf",
}
STRATEGY_COLOURS = {"broadcast": "#d62728", "per-flight": "#2ca02c", "chunked": "#9467bd"}


def _layout() -> ConstrainedLayoutEngine:
    """Constrained layout leaving a strip at the bottom for the sources footnote."""
    return ConstrainedLayoutEngine(rect=(0, 0.05, 1, 0.95))


def _footnote(fig: Figure, sweep: Sweep) -> None:
    fig.text(
        0.01,
        0.005,
        f"Prices: {sweep.prices.region}, as of {sweep.prices.as_of} ({sweep.prices.path.name}). "
        f"Timings: '{sweep.profile.name}' profile, as of {sweep.profile.as_of}.",
        fontsize=7,
        color="#555555",
        ha="left",
        va="bottom",
    )


def cost_figure(sweep: Sweep, mark: int | None = None) -> Figure:
    """Monthly cost against N (log-log), stacked by service, one panel per strategy."""
    strategies = list(sweep.results)
    fig = Figure(figsize=(4.2 * len(strategies), 3.9), layout=_layout())
    axes = fig.subplots(1, len(strategies), sharey=True, squeeze=False)[0]
    n = np.asarray(sweep.subscribers, dtype=float)
    for ax, strategy in zip(axes, strategies, strict=True):
        layers = [np.maximum(sweep.monthly(strategy, s), 1e-4) for s in SERVICES]
        ax.stackplot(n, layers, labels=SERVICES, colors=[COLOURS[s] for s in SERVICES], alpha=0.85)
        total = sweep.monthly(strategy)
        ax.plot(n, total, color="black", lw=1, label="total")
        behind = np.array([not r.sustainable for r in sweep.results[strategy]])
        if behind.any():
            ax.plot(n[behind], total[behind], "kx", ms=6, label="cannot keep up")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(strategy)
        ax.set_xlabel("subscribers N")
        ax.grid(True, which="major", alpha=0.3)
        if mark is not None:
            ax.axvline(mark, color="black", ls=":", lw=1)
    axes[0].set_ylabel("USD per month")
    handles: dict[str, object] = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(label, handle)
    axes[0].legend(list(handles.values()), list(handles), loc="upper left", fontsize=7)
    _footnote(fig, sweep)
    return fig


def latency_figure(sweep: Sweep, mark: int | None = None) -> Figure:
    """Time until the last subscriber sees an update (p50 solid, p99 dashed) against N."""
    fig = Figure(figsize=(6.5, 4.2), layout=_layout())
    ax = fig.subplots()
    n = np.asarray(sweep.subscribers, dtype=float)
    for strategy in sweep.results:
        colour = STRATEGY_COLOURS.get(strategy)
        ax.plot(
            n,
            sweep.time_to_last(strategy, "p50"),
            "-o",
            ms=3,
            color=colour,
            label=f"{strategy} p50",
        )
        ax.plot(n, sweep.time_to_last(strategy, "p99"), "--", color=colour, label=f"{strategy} p99")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("subscribers N")
    ax.set_ylabel("time to last subscriber (s)")
    ax.set_title(
        "Time to last subscriber\n(no point where the pipeline cannot keep up)", fontsize=10
    )
    ax.grid(True, which="major", alpha=0.3)
    if mark is not None:
        ax.axvline(mark, color="black", ls=":", lw=1)
    ax.legend(fontsize=8, ncol=2)
    _footnote(fig, sweep)
    return fig
