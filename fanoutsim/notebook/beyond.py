"""Helpers for notebooks 06 and 06b (beyond the seed): live fan-out runs by mode, and the
pictures that show per-flight against broadcast, retries on a timeline, and connections
closing.

Every figure says where its numbers come from: live counts are counted by the simulator's
botocore hooks on this machine; monthly costs come from the model and the price file.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from matplotlib.figure import Figure
from matplotlib.patches import Patch

from fanoutsim.model.engine import simulate
from fanoutsim.model.scenario import Scenario
from fanoutsim.runtime.function_runtime import Invocation
from fanoutsim.sample_flights import sample_flights
from fanoutsim.simulator import Simulator

__all__ = [
    "ModeRun",
    "flight",
    "flight_ids",
    "invocations_figure",
    "live_modes",
    "modelled_modes",
    "modes_figure",
]

MODES = ("broadcast", "per-flight")
_OUTCOME_COLOURS = {
    "ok": "#2f9e44",
    "records failed": "#ae3ec9",
    "error": "#e03131",
    "timed out": "#f08c00",
}


@dataclass(frozen=True)
class ModeRun:
    """What one fan-out mode cost for the same clients and updates."""

    mode: str
    posts_per_update: float
    gateway_usd_per_update: float
    source: str


def flight_ids(n: int) -> list[str]:
    """``n`` flight ids: the sample flights' first, then made ones (UUIDs, as the seed's
    schema wants, the same in every run)."""
    known = [f.flight_id for f in sample_flights()]
    made = [str(uuid.uuid5(uuid.NAMESPACE_URL, f"fanoutsim:flight:{i}")) for i in range(n)]
    return (known + made)[:n]


def flight(flight_id: str) -> dict[str, Any]:
    """A ``New flight scheduled`` detail for ``flight_id`` (the first sample flight's)."""
    return {**sample_flights()[0].flight, "flightId": flight_id}


def live_modes(clients: int = 100, flights: int = 10, updates: int = 5) -> list[ModeRun]:
    """Run each mode live: ``clients`` spread evenly over ``flights``, then ``updates``
    status updates of different flights; posts and message cost per update, as counted."""
    ids = flight_ids(flights)
    runs = []
    for mode in MODES:
        with Simulator(fanout=mode) as sim:
            for flight_id in ids:  # scheduled before anyone connects: only updates count
                sim.flights.schedule(flight(flight_id))
            sim.wait("idle")
            for i, flight_id in enumerate(ids):
                share = clients // flights + (1 if i < clients % flights else 0)
                sim.clients.add(share, flights=[flight_id])
            before = sim.report().to_dict()
            for step in range(updates):
                sim.flights.publish(ids[step % flights], "DEPARTURE_DELAYED", f"step {step}")
            sim.wait("settled")
            after = sim.report().to_dict()
        op = "apigatewaymanagementapi:PostToConnection"
        posts = after["operations"].get(op, 0) - before["operations"].get(op, 0)
        usd = after["cost_usd"]["apigateway"] - before["cost_usd"]["apigateway"]
        source = f"live run here {time.strftime('%Y-%m-%d')}: posts counted"
        runs.append(ModeRun(mode, posts / updates, usd / updates, source))
    return runs


def modelled_modes(
    clients: int = 1_000, flights: int = 50, updates_per_minute: float = 20.0
) -> tuple[list[ModeRun], dict[str, float]]:
    """The model's posts per update and monthly cost per mode (``aws`` profile, the price
    file); the second value is each mode's USD a month."""
    runs, monthly = [], {}
    for mode in MODES:
        scenario = Scenario(
            subscribers=clients,
            flights=flights,
            strategy=mode,
            updates_per_minute=updates_per_minute,
            updates=200,
        )
        result = simulate(scenario, "aws", seed=0)
        posts = result.operations.get("apigatewaymanagementapi:PostToConnection", 0)
        runs.append(
            ModeRun(
                mode,
                float(posts),
                result.cost_per_update.get("apigateway", 0.0),
                "model (aws profile, price file)",
            )
        )
        monthly[mode] = result.cost_per_month["total"]
    return runs, monthly


def modes_figure(
    live: Sequence[ModeRun],
    modelled: Sequence[ModeRun],
    monthly: Mapping[str, float],
    *,
    small: str,
    large: str,
) -> Figure:
    """Left: posts per update, live and modelled, at the ``small`` scale (they should
    agree). Right: the modelled monthly bill of each mode at the ``large`` scale."""
    fig = Figure(figsize=(9.5, 3.8), layout="constrained")
    left, right = fig.subplots(1, 2)
    width = 0.38
    for offset, runs in ((-width / 2, live), (width / 2, modelled)):
        bars = left.bar(
            [i + offset for i in range(len(runs))],
            [r.posts_per_update for r in runs],
            width,
            label=runs[0].source if runs else "",
        )
        left.bar_label(bars, fmt="%.0f", fontsize=8)
    left.set_xticks(range(len(MODES)), MODES)
    left.set_ylabel("PostToConnection calls per update")
    left.legend(fontsize=7, loc="upper right")
    left.set_title(f"Posts per update, {small}", fontsize=9)
    bars = right.bar(list(monthly), list(monthly.values()), color=["#1c7ed6", "#2f9e44"])
    right.bar_label(bars, labels=[f"USD {v:,.2f}" for v in monthly.values()], fontsize=8)
    right.set_ylabel("USD per month, every service")
    right.set_title(f"Monthly bill, {large}\n(model, aws profile, price file)", fontsize=9)
    return fig


def _outcome(invocation: Invocation) -> str:
    if invocation.timed_out:
        return "timed out"
    if not invocation.ok:
        return "error"
    result = invocation.result
    failed = isinstance(result, dict) and result.get("batchItemFailures")
    return "records failed" if failed else "ok"


def invocations_figure(
    invocations: Sequence[Invocation], functions: Sequence[str], *, title: str
) -> Figure:
    """One row per function, one bar per invocation from its start for its duration,
    coloured by outcome: ok, records reported failed (``batchItemFailures``), an error, or
    timed out (times measured here, from the first invocation shown)."""
    shown = [i for i in invocations if i.function in functions]
    fig = Figure(figsize=(9, 0.9 + 0.5 * max(len(functions), 2)), layout="constrained")
    ax = fig.subplots()
    origin = min((i.started for i in shown), default=0.0)
    for row, name in enumerate(functions):
        for invocation in (i for i in shown if i.function == name):
            start = invocation.started - origin
            ax.barh(
                row,
                max(invocation.duration_ms / 1000, 0.01),
                left=start,
                height=0.5,
                color=_OUTCOME_COLOURS[_outcome(invocation)],
                edgecolor="black",
                linewidth=0.4,
            )
    ax.set_yticks(range(len(functions)), list(functions), fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("seconds since the first invocation shown (measured here)")
    handles = [Patch(color=colour, label=label) for label, colour in _OUTCOME_COLOURS.items()]
    ax.legend(handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.set_title(title, fontsize=9)
    ax.grid(axis="x", alpha=0.3)
    return fig
