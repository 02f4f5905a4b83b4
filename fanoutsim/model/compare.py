"""Which push pattern at my size: the five patterns of the seed side by side.

:func:`compare` asks every pattern model (:mod:`fanoutsim.model.patterns`) the same
question and returns a :class:`Comparison`: one row per pattern (monthly cost, time to the
last subscriber, whether it works at default quotas and what binds) and a verdict naming
the cheapest pattern that works, and why. Every figure keeps its source and basis (list
price, published quota, secondary source or assumption).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fanoutsim.aws.pricing import PriceTable, load_prices
from fanoutsim.errors import ConfigError
from fanoutsim.model.patterns import PATTERNS
from fanoutsim.model.patterns.base import Ask, Context, PatternResult, load_stage_data
from fanoutsim.model.result import _json_number, format_ms
from fanoutsim.stats import percentiles
from fanoutsim.timing.profiles import TimingProfile, load_profile

__all__ = ["TIE", "Comparison", "compare", "context"]

#: Two monthly bills closer than this share are called a tie in the verdict.
TIE = 0.05


def context(
    prices: PriceTable | str | Path | None = None,
    profile: TimingProfile | str | Path = "aws",
    stages: str | Path | None = None,
) -> Context:
    """The data every pattern model reads (packaged files unless paths are given)."""
    return Context(
        prices=prices if isinstance(prices, PriceTable) else load_prices(prices),
        profile=profile if isinstance(profile, TimingProfile) else load_profile(profile),
        stages=load_stage_data(stages),
    )


def compare(
    subscribers: int,
    updates_per_minute: float = 20.0,
    *,
    payload_kb: float = 1.0,
    flights: int = 100,
    subscriptions_per_flight: float | None = None,
    coalesce_s: float = 0.0,
    free_tier: bool = False,
    apigw_strategy: str | None = None,
    poll_interval_s: float | None = None,
    max_delay_s: float | None = None,
    updates: int = 1000,
    seed: int = 0,
    patterns: Iterable[str] | None = None,
    ctx: Context | None = None,
) -> Comparison:
    """Model every pattern (or those named) for one question; see :class:`Ask`.

    ``updates`` is how many updates the Pattern #3 model simulates: 1,000 by default, as
    ``fanoutsim model`` does, so the two agree to the cent; 100 is enough for a sweep.
    """
    names = list(patterns) if patterns is not None else list(PATTERNS)
    unknown = [n for n in names if n not in PATTERNS]
    if unknown:
        raise ConfigError(f"unknown pattern {unknown[0]!r}; known: {', '.join(PATTERNS)}")
    ask = Ask(
        subscribers=subscribers,
        updates_per_minute=updates_per_minute,
        payload_kb=payload_kb,
        flights=flights,
        subscriptions_per_flight=subscriptions_per_flight,
        coalesce_s=coalesce_s,
        free_tier=free_tier,
        apigw_strategy=apigw_strategy,
        poll_interval_s=poll_interval_s,
        max_delay_s=max_delay_s,
        updates=updates,
        seed=seed,
    )
    ctx = ctx or context()
    return Comparison(ask, ctx, {name: PATTERNS[name](ask, ctx) for name in names})


@dataclass(frozen=True)
class Comparison:
    """The answer for one question: a :class:`PatternResult` per pattern."""

    ask: Ask
    ctx: Context
    results: dict[str, PatternResult]

    def __getitem__(self, pattern: str) -> PatternResult:
        return self.results[pattern]

    def too_slow(self, r: PatternResult) -> str | None:
        """Why ``r`` misses the question's delay target, or None when it meets it."""
        target = self.ask.max_delay_s
        p50 = percentiles(r.time_to_last_ms)["p50"]
        if target is None or (p50 is not None and p50 <= target * 1000):
            return None
        return f"too slow: the last subscriber waits p50 {format_ms(p50)}, target {target:g} s"

    def works(self, r: PatternResult) -> bool:
        """Within default quotas, and fresh enough when the question sets a delay target."""
        return r.feasible and self.too_slow(r) is None

    def needs(self, r: PatternResult) -> list[str]:
        """Every reason ``r`` does not work, in words."""
        slow = self.too_slow(r)
        return [*r.needs(), *([slow] if slow else [])]

    def ranked(self) -> list[PatternResult]:
        """Working patterns first, each group cheapest first (data transfer included)."""
        return sorted(
            self.results.values(), key=lambda r: (not self.works(r), r.total(with_transfer=True))
        )

    def cheapest(self) -> PatternResult:
        return self.ranked()[0]

    def verdict(self) -> str:
        """One sentence naming the cheapest pattern that works, and why."""
        ranked = self.ranked()
        best = ranked[0]
        cost = best.total(with_transfer=True)
        biggest = max((x for x in best.lines if not x.common), key=lambda x: x.usd)
        share = 100 * biggest.usd / best.total() if best.total() else 0.0
        if not self.works(best):
            return (
                f"No pattern works at default quotas for {self.ask.subscribers:,} subscribers "
                f"at {self.ask.updates_per_minute:g} updates/min; the cheapest is "
                f"{best.pattern} (USD {cost:,.2f} a month), which needs: "
                f"{'; '.join(self.needs(best))}."
            )
        runner = next((r for r in ranked[1:] if self.works(r)), None)
        if runner is None:
            against = ", the only one that works at default quotas"
        elif runner.total(with_transfer=True) <= cost * (1 + TIE):
            against = (
                f", within {TIE:.0%} of {runner.pattern} (USD "
                f"{runner.total(with_transfer=True):,.2f}): at this size choose on features"
            )
        else:
            against = f", against USD {runner.total(with_transfer=True):,.2f} for {runner.pattern}"
        last = percentiles(best.time_to_last_ms)["p50"]
        return (
            f"{best.pattern} is the cheapest pattern that works at default quotas: USD "
            f"{cost:,.2f} a month{against}; {share:.0f}% of its bill is {biggest.meter} "
            f"({biggest.service}), and its last subscriber waits p50 {format_ms(last)}."
        )

    def rows(self) -> list[dict[str, Any]]:
        """One JSON-ready row per pattern, keyed as ``fanoutsim model --json`` is."""
        return [self._row(r) for r in self.results.values()]

    def _row(self, r: PatternResult) -> dict[str, Any]:
        cost: dict[str, float] = dict(r.by_service())
        cost["total"] = r.total()
        cost["data_transfer_out"] = r.total(with_transfer=True) - r.total()
        cost["total_with_transfer"] = r.total(with_transfer=True)
        row = {
            "pattern": r.pattern,
            "title": r.title,
            "monthly_cost_usd": cost,
            "sustainable": r.feasible,
            "works": self.works(r),
            "binding": self.needs(r),
            "notes": list(r.notes),
            "time_to_first_ms": percentiles(r.time_to_first_ms),
            "time_to_last_ms": percentiles(r.time_to_last_ms),
            "lines": [
                {
                    "service": x.service,
                    "meter": x.meter,
                    "quantity": x.quantity,
                    "usd": x.usd,
                    "basis": x.basis,
                    "source": x.source,
                    "common_to_all": x.common,
                }
                for x in r.lines
            ],
            "quotas": [
                {
                    "name": q.name,
                    "needed": q.needed,
                    "default": q.default,
                    "unit": q.unit,
                    "adjustable": q.adjustable,
                    "basis": q.basis,
                    "source": q.source,
                }
                for q in r.quotas
            ],
            "sources": {
                "prices": self.ctx.prices.describe(),
                "profile": f"{self.ctx.profile.name} profile ({self.ctx.profile.source}, "
                f"as of {self.ctx.profile.as_of})",
                **{f"stage {k}": v for k, v in r.stage_sources.items()},
            },
        }
        result: dict[str, Any] = _json_number(row)
        return result

    def to_dict(self) -> dict[str, Any]:
        a = self.ask
        return {
            "question": {
                "subscribers": a.subscribers,
                "updates_per_minute": a.updates_per_minute,
                "payload_kb": a.payload_kb,
                "flights": a.flights,
                "subscriptions_per_flight": a.subscriptions_per_flight,
                "coalesce_s": a.coalesce_s,
                "free_tier": a.free_tier,
                "max_delay_s": a.max_delay_s,
            },
            "patterns": self.rows(),
            "verdict": self.verdict(),
        }

    def table(self) -> str:
        """The comparison as text: one row per pattern, then the verdict."""
        a = self.ask
        head = (
            f"{a.subscribers:,} subscribers, {a.updates_per_minute:g} updates/min, "
            f"{a.payload_kb:g} KB"
        )
        if a.subscriptions_per_flight is not None:
            head += f", {a.subscriptions_per_flight:g} subscribers per flight"
        lines = [
            head,
            "",
            f"{'pattern':<17}{'USD/month':>14}{'+ transfer':>13}{'last p50':>11}{'last p99':>11}"
            "  works",
        ]
        for r in self.results.values():
            last = percentiles(r.time_to_last_ms)
            works = "works" if self.works(r) else "NO: " + self.needs(r)[0].split(":")[0]
            transfer = r.total(with_transfer=True) - r.total()
            lines.append(
                f"{r.pattern:<17}{r.total():>14,.2f}{transfer:>13,.2f}"
                f"{format_ms(last['p50']):>11}{format_ms(last['p99']):>11}  {works}"
            )
        lines += ["", self.verdict(), "", f"prices: {self.ctx.prices.describe()}"]
        guesses = sorted(
            {x.meter for r in self.results.values() for x in r.lines if x.basis == "assumption"}
        )
        if guesses:
            lines.append("priced on an assumption: " + "; ".join(guesses))
        lines.append(
            f"latency stages: {self.ctx.stages.path.name} (AppSync and IoT Core fan-out "
            "times are assumptions: no public figure)"
        )
        return "\n".join(lines)
