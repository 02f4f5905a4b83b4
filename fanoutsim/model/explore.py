"""Sweeps and what-if tables over the model, for notebooks (plain data plus small HTML).

A notebook cell stays one line: ``sweep_n(...)`` runs the model over a log-spaced range of
subscriber counts for each strategy; ``what_if(...)`` compares variations of one scenario;
``sources_html`` shows every price and delay with its source and date.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from fanoutsim.aws.pricing import REQUIRED_PRICES, SERVICES, PriceTable, load_prices
from fanoutsim.html_text import escape
from fanoutsim.model.engine import simulate
from fanoutsim.model.result import ModelResult
from fanoutsim.model.scenario import STRATEGIES, Quotas, Scenario
from fanoutsim.timing.profiles import TimingProfile, load_profile

__all__ = ["Sweep", "log_range", "sources_html", "sweep_n", "table_html", "what_if"]


@dataclass(frozen=True)
class Sweep:
    """Model results over subscriber counts, one row per strategy."""

    subscribers: list[int]
    results: dict[str, list[ModelResult]]
    profile: TimingProfile
    prices: PriceTable

    def monthly(self, strategy: str, service: str = "total") -> np.ndarray:
        return np.array([r.cost_per_month[service] for r in self.results[strategy]])

    def time_to_last(self, strategy: str, key: str = "p50") -> np.ndarray:
        """Seconds; NaN where the pipeline cannot keep up (see ModelResult.sustainable)."""
        return np.array(
            [
                np.nan if v is None or not math.isfinite(v) or not r.sustainable else v / 1000
                for r in self.results[strategy]
                for v in [r.time_to_last()[key]]
            ]
        )


def log_range(low: int = 10, high: int = 1_000_000, per_decade: int = 2) -> list[int]:
    """Round, log-spaced subscriber counts from ``low`` to ``high``."""
    decades = math.log10(high / low)
    points = np.logspace(math.log10(low), math.log10(high), int(decades * per_decade) + 1)
    return sorted({int(round(float(p), 1 - math.floor(math.log10(p)))) for p in points})


def sweep_n(
    base: Scenario,
    subscribers: Sequence[int] | None = None,
    strategies: Iterable[str] = STRATEGIES,
    profile: TimingProfile | str = "aws",
    prices: PriceTable | None = None,
    seed: int = 0,
) -> Sweep:
    """Run ``base`` at each subscriber count for each strategy (other settings unchanged)."""
    prof = profile if isinstance(profile, TimingProfile) else load_profile(profile)
    table = prices or load_prices()
    counts = list(subscribers or log_range())
    results = {
        strategy: [
            simulate(dataclasses.replace(base, subscribers=n, strategy=strategy), prof, table, seed)
            for n in counts
        ]
        for strategy in strategies
    }
    return Sweep(counts, results, prof, table)


def what_if(
    base: Scenario,
    profile: TimingProfile | str = "aws",
    prices: PriceTable | None = None,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """Rows comparing ``base`` with each strategy and a few single changes to it."""
    prof = profile if isinstance(profile, TimingProfile) else load_profile(profile)
    table = prices or load_prices()
    variants: list[tuple[str, Scenario]] = [
        (
            f"{s}" + (" (as chosen)" if s == base.strategy else ""),
            dataclasses.replace(base, strategy=s),
        )
        for s in STRATEGIES
    ]
    variants += [
        ("10x concurrency", dataclasses.replace(base, concurrency=base.concurrency * 10)),
        ("arm64 functions", dataclasses.replace(base, architecture="arm64")),
        ("payload x4", dataclasses.replace(base, payload_kb=min(128.0, base.payload_kb * 4))),
        (
            "throttle raised to 50,000/s",
            dataclasses.replace(base, quotas=Quotas(connections_rps=50_000)),
        ),
    ]
    rows = []
    for label, scenario in variants:
        result = simulate(scenario, prof, table, seed)
        last = result.time_to_last()
        rows.append(
            {
                "what": label,
                **{s: result.cost_per_month[s] for s in (*SERVICES, "total")},
                "per update": result.cost_per_update["total"],
                "last p50 s": _seconds(last["p50"]),
                "last p99 s": _seconds(last["p99"]),
                "keeps up": "yes" if result.sustainable else "NO",
                "binds": "; ".join(note.split(":")[0] for note in result.binding) or "-",
            }
        )
    return rows


def _seconds(value: float | int | None) -> float:
    return math.inf if value is None else float(value) / 1000


def table_html(rows: list[dict[str, Any]], caption: str = "") -> str:
    """A small HTML table; floats get thousands separators, inf reads 'never'."""
    if not rows:
        return "<p>(no rows)</p>"
    head = "".join(f"<th>{escape(str(k))}</th>" for k in rows[0])
    body = "".join("<tr>" + "".join(_td(v) for v in row.values()) + "</tr>" for row in rows)
    cap = f"<caption>{escape(caption)}</caption>" if caption else ""
    return f"<table>{cap}<tr>{head}</tr>{body}</table>"


def _td(value: Any) -> str:
    """One cell; a number never wraps in the middle (``1,234.56`` stays on one line), text
    may wrap anywhere (a source's URL), so a table fits a 1366-pixel screen."""
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    # text may break anywhere (a long URL of a source), so the table fits its output area
    return (
        f'<td style="white-space:nowrap">{_cell(value)}</td>'
        if numeric
        else f'<td style="overflow-wrap:anywhere">{_cell(value)}</td>'
    )


def _cell(value: Any) -> str:
    if isinstance(value, float):
        if not math.isfinite(value):
            return "never"
        return f"{value:,.2f}" if abs(value) >= 1 else f"{value:.4g}"
    return escape(str(value))


def sources_html(profile: TimingProfile | str = "aws", prices: PriceTable | None = None) -> str:
    """Every price and every delay the model uses, with its source and date (the price file
    also holds the other patterns' prices, which ``fanoutsim compare`` uses: not shown; the
    region is the caption's)."""
    prof = profile if isinstance(profile, TimingProfile) else load_profile(profile)
    table = prices or load_prices()
    rows = [
        {k: v for k, v in row.items() if k != "region"}
        for row in table.rows()
        if row["price"] in REQUIRED_PRICES
    ]
    return table_html(rows, f"Prices: {table.describe()}") + table_html(
        prof.rows(), f"Timing profile '{prof.name}' (as of {prof.as_of}): {prof.source}"
    )
