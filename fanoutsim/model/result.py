"""What the model answers: latency distributions, operation counts and cost, with sources."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Final

from fanoutsim.aws.pricing import SERVICES, Usage
from fanoutsim.model.scenario import Scenario
from fanoutsim.stats import percentiles
from fanoutsim.timing.distributions import FloatArray

__all__ = ["FEEDS", "ModelResult", "format_ms"]

#: How a summary names each change feed.
FEEDS: Final = {"dynamodb": "DynamoDB stream", "kinesis": "Kinesis data stream"}


def _json_number(value: Any) -> Any:
    """inf/nan become None so the output is strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_number(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_number(v) for v in value]
    return value


@dataclass(frozen=True)
class ModelResult:
    """The model's answer for one scenario.

    ``time_to_first_ms`` / ``time_to_last_ms`` hold one value per simulated update,
    measured from PutEvents (inf: the update never reached every subscriber because an
    invocation hit the Lambda timeout). ``operations`` are the API calls of one update
    (``service:Operation``), ``operations_total`` those of the whole simulated run
    (including batching). Costs are USD by service plus ``total``. ``sustainable`` is
    False when the pipeline cannot keep up with the update rate (the throttle or the stream
    handler is overloaded, or invocations time out): time-to-last then grows with every
    update and its percentiles depend on how many updates were simulated.
    """

    scenario: Scenario
    profile: str
    profile_source: str
    prices_source: str
    seed: int
    exact: bool
    time_to_first_ms: FloatArray
    time_to_last_ms: FloatArray
    stages: dict[str, dict[str, float | int | None]]
    operations: dict[str, int]
    invocations: dict[str, int]
    operations_total: dict[str, int]
    invocations_total: dict[str, int]
    usage_per_update: Usage
    usage_per_month: Usage
    cost_per_update: dict[str, float]
    cost_per_month: dict[str, float]
    deliveries: int
    incomplete_updates: int
    sustainable: bool = True
    binding: list[str] = field(default_factory=list)

    @property
    def monthly_cost_usd(self) -> dict[str, float]:
        return self.cost_per_month

    def time_to_first(self) -> dict[str, float | int | None]:
        return percentiles(self.time_to_first_ms)

    def time_to_last(self) -> dict[str, float | int | None]:
        return percentiles(self.time_to_last_ms)

    def to_dict(self) -> dict[str, Any]:
        """Plain data (strict JSON: never-delivered latencies are null)."""
        s = self.scenario
        data = {
            "scenario": {
                "subscribers": s.subscribers,
                "updates_per_minute": s.updates_per_minute,
                "payload_kb": s.payload_kb,
                "strategy": s.strategy,
                "concurrency": s.concurrency,
                "flights": s.flights,
                "subscribers_per_update": self.operations.get(
                    "apigatewaymanagementapi:PostToConnection", 0
                ),
                "chunk_size": s.chunk_size if s.strategy == "chunked" else None,
                "updates_simulated": s.updates,
                "architecture": s.architecture,
                "stream": s.stream,
            },
            "profile": self.profile,
            "seed": self.seed,
            "method": "exact" if self.exact else "order-statistics",
            "monthly_cost_usd": dict(self.cost_per_month),
            "cost_per_update_usd": dict(self.cost_per_update),
            "time_to_first_ms": self.time_to_first(),
            "time_to_last_ms": self.time_to_last(),
            "stages": self.stages,
            "operations": dict(self.operations),
            "invocations": dict(self.invocations),
            "operations_total": dict(self.operations_total),
            "usage_per_month": self.usage_per_month.as_dict(),
            "deliveries_simulated": self.deliveries,
            "incomplete_updates": self.incomplete_updates,
            "sustainable": self.sustainable,
            "binding": list(self.binding),
            "sources": {"prices": self.prices_source, "profile": self.profile_source},
        }
        result: dict[str, Any] = _json_number(data)
        return result

    def reading(self) -> str:
        """The answer in two or three sentences, made from the figures (so a notebook's
        words cannot drift from its outputs)."""
        s = self.scenario
        cost = self.cost_per_month
        share = 100 * cost["apigateway"] / cost["total"] if cost["total"] else 0.0
        posts = self.operations.get("apigatewaymanagementapi:PostToConnection", 0)
        last = self.time_to_last()
        words = [
            f"The bill is {share:.1f}% API Gateway: {posts:,} messages per update, "
            f"{s.updates_per_month:,.0f} updates a month (USD {cost['total']:,.0f} a month).",
            f"The last subscriber gets an update after p50 {format_ms(last['p50'])}, "
            f"p99 {format_ms(last['p99'])}.",
        ]
        if not self.sustainable:
            reasons = "; ".join(b.split(":")[0] for b in self.binding) or "the update rate"
            words.append(
                f"It does not keep up, so those figures only grow with more updates; what "
                f"binds: {reasons}."
            )
        return " ".join(words)

    def summary(self) -> str:
        """A short human-readable report with the sources of its numbers."""
        s = self.scenario
        last, first = self.time_to_last(), self.time_to_first()
        lines = [
            f"{s.strategy} fan-out: {s.subscribers:,} subscribers, "
            f"{s.updates_per_minute:g} updates/min, {s.payload_kb:g} KB, "
            f"concurrency {s.concurrency}, {FEEDS[s.stream]} (profile {self.profile}, "
            f"{s.updates:,} updates simulated, seed {self.seed})",
            "",
            f"{'':<14}{'per update':>14}{'per month':>16}",
        ]
        for key in (*SERVICES, "total"):
            lines.append(
                f"{key:<14}{self.cost_per_update[key]:>14.6f}{self.cost_per_month[key]:>16,.2f}"
            )
        lines += [
            "",
            f"time to first subscriber: p50 {format_ms(first['p50'])}  "
            f"p99 {format_ms(first['p99'])}",
            f"time to last subscriber:  p50 {format_ms(last['p50'])}  p99 {format_ms(last['p99'])}",
            "",
            "operations per update: " + ", ".join(f"{k} {v:,}" for k, v in self.operations.items()),
        ]
        if not self.sustainable:
            lines += [
                "",
                "NOT SUSTAINABLE: the pipeline cannot keep up with this update rate, so "
                "time-to-last grows with every update (figures above are for the "
                f"{s.updates:,} updates simulated).",
            ]
        if self.binding:
            lines += ["", "what binds:"] + [f"  - {b}" for b in self.binding]
        lines += ["", f"prices: {self.prices_source}", f"timings: {self.profile_source}"]
        return "\n".join(lines)


def format_ms(value: float | int | None) -> str:
    """A latency for people: ``850 ms``, ``12.40 s``, or ``never`` (inf or missing)."""
    if value is None or not math.isfinite(value):
        return "never"
    return f"{value / 1000:,.2f} s" if value >= 10_000 else f"{value:,.0f} ms"
