"""What every push-pattern model shares: the question, the result type and the common parts.

An :class:`Ask` is the architect's question (N subscribers, U updates a minute, a payload,
optional per-flight interest and levers). Each pattern module turns it into a
:class:`PatternResult`: a monthly bill as :class:`Line` items (service, meter, quantity,
dollars, and how each price is known), the quotas it needs (:class:`QuotaCheck`) and the
time to the first and last subscriber as samples. The ingest every pattern shares
(EventBridge, the view-model function, the DynamoDB write) is priced once, here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import numpy as np

from fanoutsim.aws.eventbridge import event_units
from fanoutsim.aws.limits import Limit, limits
from fanoutsim.aws.pricing import PriceTable, dynamodb_write_units
from fanoutsim.datafiles import read_toml
from fanoutsim.errors import ConfigError, DataFileError
from fanoutsim.model.scenario import MINUTES_PER_MONTH, stack_memory
from fanoutsim.timing.distributions import Distribution, FloatArray, from_spec
from fanoutsim.timing.profiles import TimingProfile

__all__ = [
    "STAGES_PATH",
    "Ask",
    "Context",
    "Line",
    "PatternResult",
    "QuotaCheck",
    "StageData",
    "ingest_lines",
    "lambda_lines",
    "line",
    "load_stage_data",
    "rate_check",
]

STAGES_PATH: Final = Path(__file__).resolve().parents[2] / "data" / "pattern_stages.toml"

#: Samples drawn per latency distribution.
SAMPLES: Final = 4_000


@dataclass(frozen=True)
class Ask:
    """The question: N subscribers, U updates a minute, a payload, and the levers.

    ``subscriptions_per_flight`` None means every subscriber receives every update (the
    seed's broadcast); a number means per-flight channels, topics, subscription filters or
    the per-flight strategy, so an update reaches that many. ``coalesce_s`` holds updates
    that long and sends them as one message, up to each service's metering unit.
    ``max_delay_s``, when set, is the freshness the board needs: a pattern whose median
    time to the last subscriber is longer does not count as working.
    """

    subscribers: int
    updates_per_minute: float = 20.0
    payload_kb: float = 1.0
    flights: int = 100
    subscriptions_per_flight: float | None = None
    coalesce_s: float = 0.0
    free_tier: bool = False
    apigw_strategy: str | None = None
    poll_interval_s: float | None = None
    max_delay_s: float | None = None
    updates: int = 1000
    seed: int = 0

    def __post_init__(self) -> None:
        checks = [
            (self.subscribers >= 1, "subscribers must be >= 1"),
            (self.updates_per_minute > 0, "updates per minute must be > 0"),
            (0 < self.payload_kb <= 128, "payload must be in (0, 128] KB"),
            (self.flights >= 1, "flights must be >= 1"),
            (self.coalesce_s >= 0, "the coalescing window must be >= 0 s"),
            (self.updates >= 1, "updates must be >= 1"),
            (self.poll_interval_s is None or self.poll_interval_s > 0, "poll interval > 0 s"),
            (self.max_delay_s is None or self.max_delay_s > 0, "the delay target must be > 0 s"),
            (
                self.subscriptions_per_flight is None
                or 0 <= self.subscriptions_per_flight <= self.subscribers,
                "subscriptions per flight must be between 0 and subscribers",
            ),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(message)

    @property
    def recipients(self) -> float:
        """Subscribers one update reaches."""
        if self.subscriptions_per_flight is None:
            return float(self.subscribers)
        return float(self.subscriptions_per_flight)

    @property
    def updates_per_month(self) -> float:
        return self.updates_per_minute * MINUTES_PER_MONTH

    def batch(self, unit_bytes: float) -> int:
        """Updates one message carries under coalescing: those arriving in the window (on
        one flight's channel when interest is per flight), at most as many as fit the
        metering unit (always at least 1)."""
        rate = self.updates_per_minute
        if self.subscriptions_per_flight is not None:  # one channel (topic) per flight
            rate /= self.flights
        per_window = rate * self.coalesce_s / 60
        fit = max(1, math.floor(unit_bytes / (self.payload_kb * 1024)))
        return max(1, min(fit, math.floor(per_window)))

    def messages_per_month(self, unit_bytes: float) -> float:
        """Messages the publisher sends a month (updates, or batches of them)."""
        return self.updates_per_month / self.batch(unit_bytes)

    def units(self, unit_bytes: float) -> int:
        """Metering units one (possibly coalesced) message takes."""
        size = self.payload_kb * 1024 * self.batch(unit_bytes)
        return max(1, math.ceil(size / unit_bytes))


@dataclass(frozen=True)
class Line:
    """One line of a monthly bill."""

    service: str
    meter: str
    quantity: float
    usd: float
    basis: str
    source: str
    #: Data transfer out: billed alike by every push pattern, so shown apart from the total.
    common: bool = False


@dataclass(frozen=True)
class QuotaCheck:
    """A quota this pattern needs at this size: the figure needed against the default."""

    name: str
    needed: float
    default: float
    unit: str
    adjustable: bool | None
    basis: str
    source: str

    @property
    def exceeded(self) -> bool:
        return self.needed > self.default

    def sentence(self) -> str:
        raise_word = {True: "can be raised", False: "cannot be raised", None: "raise unknown"}
        return (
            f"{self.name}: {self.needed:,.0f} {self.unit} needed, {self.default:,.0f} by "
            f"default ({raise_word[self.adjustable]}; {self.basis})"
        )


@dataclass(frozen=True)
class PatternResult:
    """One pattern's answer: bill, quotas, latency, and the sources of all three."""

    pattern: str
    title: str
    lines: tuple[Line, ...]
    quotas: tuple[QuotaCheck, ...]
    time_to_first_ms: FloatArray
    time_to_last_ms: FloatArray
    binding: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    stage_sources: Mapping[str, str] = field(default_factory=dict)

    @property
    def feasible(self) -> bool:
        """True when nothing binds at the default quotas."""
        return not self.binding and not any(q.exceeded for q in self.quotas)

    def meter(self, prefix: str) -> Line:
        """The one bill line whose meter starts with ``prefix``."""
        found = [x for x in self.lines if x.meter.startswith(prefix)]
        if len(found) != 1:
            raise KeyError(f"{len(found)} lines of {self.pattern} start with {prefix!r}")
        return found[0]

    def total(self, *, with_transfer: bool = False) -> float:
        return sum(x.usd for x in self.lines if with_transfer or not x.common)

    def by_service(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for x in self.lines:
            if not x.common:
                out[x.service] = out.get(x.service, 0.0) + x.usd
        return out

    def needs(self) -> list[str]:
        """Every reason it does not work at default quotas, in words."""
        return [*self.binding, *(q.sentence() for q in self.quotas if q.exceeded)]


@dataclass(frozen=True)
class StageData:
    """The contents of ``pattern_stages.toml``: stage delays, metering units, seed counts."""

    stages: Mapping[str, Distribution]
    bases: Mapping[str, str]
    numbers: Mapping[str, float]
    sources: Mapping[str, str]
    path: Path

    def stage(self, key: str) -> Distribution:
        return self.stages[key]

    def number(self, key: str) -> float:
        return self.numbers[key]


def load_stage_data(path: str | Path | None = None) -> StageData:
    """Read ``pattern_stages.toml`` (or a user's copy)."""
    file = Path(path) if path is not None else STAGES_PATH
    doc = read_toml(file, "pattern stages file")
    stages, bases, numbers, sources = {}, {}, {}, {}
    for key, spec in dict(doc.get("stages", {})).items():
        where = f"pattern stages file {file}, [stages.{key}]"
        stages[key] = from_spec({k: v for k, v in spec.items() if k != "basis"}, where)
        bases[key] = str(spec.get("basis", "assumption"))
        sources[key] = stages[key].source
    for table in ("metering", "seed"):
        for key, spec in dict(doc.get(table, {})).items():
            if not isinstance(spec.get("value"), int | float) or not spec.get("source"):
                where = f"pattern stages file {file}: [{table}.{key}]"
                raise DataFileError(f"{where} needs a numeric value and a source")
            numbers[key] = float(spec["value"])
            bases[key] = str(spec.get("basis", "assumption"))
            sources[key] = str(spec["source"])
    return StageData(stages, bases, numbers, sources, file)


@dataclass(frozen=True)
class Context:
    """What a pattern model reads: prices, timings, limits and stage data."""

    prices: PriceTable
    profile: TimingProfile
    stages: StageData
    limits: Mapping[str, Limit] = field(default_factory=limits)

    def rng(self, ask: Ask, salt: int) -> np.random.Generator:
        return np.random.default_rng([ask.seed, salt])


def line(ctx: Context, ask: Ask, key: str, quantity: float, meter: str = "") -> Line:
    """A bill line for ``quantity`` units of price ``key`` a month."""
    price = ctx.prices[key]
    return Line(
        service=price.service,
        meter=meter or price.unit,
        quantity=quantity,
        usd=price.charge(quantity, free_tier=ask.free_tier),
        basis=price.basis,
        source=f"{price.source} (as of {price.as_of})",
        common=price.service == "datatransfer",
    )


def lambda_lines(
    ctx: Context, ask: Ask, requests: float, gb_seconds: float, what: str
) -> list[Line]:
    """Requests and x86_64 duration of the Lambda functions a pattern runs."""
    return [
        line(ctx, ask, "lambda_requests", requests, f"{what}: invocations"),
        line(ctx, ask, "lambda_gb_seconds_x86_64", gb_seconds, f"{what}: GB-seconds"),
    ]


def ingest_lines(ctx: Context, ask: Ask) -> list[Line]:
    """The ingest every pattern shares: PutEvents, the view-model function, its write."""
    month = ask.updates_per_month
    write_ms = max(1.0, math.ceil(ctx.profile.distribution("dynamodb_write").mean()))
    gb_s = month * write_ms * stack_memory()["flight_events"] / 1024 / 1000
    item = math.ceil(ask.payload_kb * 1024)
    return [
        line(ctx, ask, "eventbridge_custom_events", month * event_units(item), "PutEvents"),
        *lambda_lines(ctx, ask, month, gb_s, "flight_events"),
        line(
            ctx,
            ask,
            "dynamodb_write_request_units",
            month * dynamodb_write_units(item),
            "view-model writes",
        ),
    ]


def rate_check(ctx: Context, name: str, needed: float, unit: str, label: str) -> QuotaCheck:
    """A :class:`QuotaCheck` of ``needed`` against limit ``name`` of the limits file."""
    quota = ctx.limits[name]
    return QuotaCheck(
        name=label,
        needed=needed,
        default=float(quota.value),
        unit=unit,
        adjustable=quota.adjustable,
        basis=quota.basis,
        source=f"{quota.source} (as of {quota.as_of})",
    )
