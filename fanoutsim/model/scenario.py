"""What the model is asked: a fan-out scenario, and the AWS quotas that bound it.

A :class:`Scenario` is plain data (subscribers, update rate, payload, strategy, knobs);
:class:`Quotas` holds the AWS limits that bind at scale, each with the place it is
documented. Both validate themselves on construction so a bad slider value fails with a
clear :class:`~fanoutsim.errors.ConfigError` instead of a numpy warning later.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Final

from fanoutsim import stack
from fanoutsim.aws.limits import limit
from fanoutsim.aws.pricing import normalise_architecture
from fanoutsim.errors import ConfigError
from fanoutsim.functions.stream_fanout import DEFAULT_POST_CONCURRENCY
from fanoutsim.timing.profiles import STREAMS

__all__ = ["MINUTES_PER_MONTH", "STRATEGIES", "Quotas", "Scenario", "stack_memory"]

#: Fan-out strategies the model knows.
STRATEGIES: Final = ("broadcast", "per-flight", "chunked")

#: Minutes in a billing month, using AWS's pricing-calculator convention of 730 hours.
MINUTES_PER_MONTH: Final = 730 * 60


@dataclass(frozen=True)
class Quotas:
    """AWS limits that bind at scale (defaults are the documented default quotas)."""

    #: API Gateway account-level throttle, shared with @connections calls: 10,000 requests/s
    #: steady rate with a burst of 5,000 (API Gateway quotas, "Throttle quota per account,
    #: per Region across HTTP APIs, REST APIs, WebSocket APIs, and WebSocket callback APIs").
    connections_rps: float = 10_000.0
    connections_burst: float = 5_000.0
    #: Lambda: maximum function timeout 900 s; default concurrent executions 1,000 per
    #: account and Region (Lambda quotas page).
    lambda_max_timeout_s: float = 900.0
    lambda_concurrency: int = 1_000
    #: DynamoDB Scan and Query return at most 1 MB of data per page (DynamoDB developer
    #: guide, "Paginating table query results" / Scan).
    page_bytes: int = 1 << 20
    #: Lambda asynchronous invocation payload limit (1 MB since 2026; the figure and its
    #: source are in fanoutsim/data/limits.toml).
    async_payload_bytes: int = field(default_factory=lambda: limit("lambda_async_payload_bytes"))

    def __post_init__(self) -> None:
        if self.connections_rps <= 0 or self.connections_burst < 1:
            raise ConfigError("the @connections throttle needs a rate > 0 and a burst >= 1")
        if self.lambda_concurrency < 1 or self.page_bytes < 1:
            raise ConfigError("Lambda concurrency and the page size must be >= 1")


@dataclass(frozen=True)
class Scenario:
    """One what-if: N subscribers, an update rate, a payload and a fan-out strategy.

    ``concurrency`` is how many PostToConnection calls one invocation keeps in flight
    (default: the live ``stream_fanout``'s ``POST_CONCURRENCY``, 50, what the seed's
    handler gets from ``Promise.all`` over its SDK client's default 50 sockets).
    ``subscriptions_per_flight`` (per-flight strategy) defaults to ``subscribers / flights``:
    every subscriber follows one flight.
    ``chunk_size`` is the number of subscribers one worker invocation posts to (chunked).
    ``updates`` is how many status updates are simulated, spaced evenly at the update rate.
    Memory sizes default to the live stack's (``fanoutsim/stack.py``).
    """

    subscribers: int
    updates_per_minute: float = 20.0
    payload_kb: float = 1.0
    strategy: str = "broadcast"
    concurrency: int = DEFAULT_POST_CONCURRENCY
    flights: int = 100
    subscriptions_per_flight: float | None = None
    chunk_size: int = 1_000
    updates: int = 1_000
    lambda_timeout_s: float = 900.0
    architecture: str = "x86_64"
    #: Each function's memory: the stack's own (:data:`fanoutsim.stack.FUNCTIONS`), so the
    #: model prices what the simulator runs and the template deploys.
    memory_mb: dict[str, int] = field(default_factory=lambda: stack_memory())
    batch_size: int = 100
    cold_start: bool = True
    session_minutes: float = 120.0
    connection_item_bytes: int = 56
    subscription_item_bytes: int = 72
    quotas: Quotas = field(default_factory=Quotas)
    #: The table's change feed: its DynamoDB stream, or a Kinesis data stream as the
    #: seed's templates use (priced per stream hour, GB and change data capture unit).
    stream: str = "dynamodb"

    def __post_init__(self) -> None:
        checks = [
            (self.subscribers >= 1, "subscribers must be >= 1"),
            (self.updates_per_minute > 0, "updates_per_minute must be > 0"),
            (0 < self.payload_kb <= 128, "payload_kb must be in (0, 128] (the 128 KB quota)"),
            (self.strategy in STRATEGIES, f"strategy must be one of {', '.join(STRATEGIES)}"),
            (self.stream in STREAMS, f"stream must be one of {', '.join(STREAMS)}"),
            (self.concurrency >= 1, "concurrency must be >= 1"),
            (self.flights >= 1, "flights must be >= 1"),
            (self.chunk_size >= 1, "chunk_size must be >= 1"),
            (self.updates >= 1, "updates must be >= 1"),
            (self.batch_size >= 1, "batch_size must be >= 1"),
            (self.session_minutes > 0, "session_minutes must be > 0"),
            (
                0 < self.lambda_timeout_s <= self.quotas.lambda_max_timeout_s,
                f"lambda_timeout_s must be in (0, {self.quotas.lambda_max_timeout_s:g}]",
            ),
            (
                self.subscriptions_per_flight is None
                or 0 <= self.subscriptions_per_flight <= self.subscribers,
                "subscriptions_per_flight must be between 0 and subscribers",
            ),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(message)
        normalise_architecture(self.architecture)
        workers = -(-self.subscribers // self.chunk_size) if self.strategy == "chunked" else 1
        if self.updates * workers > 50_000_000:
            raise ConfigError(
                f"{self.updates:,} updates x {workers:,} workers is too much to hold in "
                "memory; simulate fewer updates (percentiles settle after a few hundred)"
            )
        # A worker's chunk travels in its async invocation payload (ids of ~20 bytes).
        if self.strategy == "chunked" and self.chunk_size * 20 > self.quotas.async_payload_bytes:
            limit_kb = self.quotas.async_payload_bytes // 1024
            raise ConfigError(
                f"chunk_size {self.chunk_size} does not fit a {limit_kb:,} KB async invocation "
                f"payload (about 20 bytes per connection id): use at most "
                f"{self.quotas.async_payload_bytes // 20:,}"
            )

    # ------------------------------------------------------------------ derived
    @property
    def payload_bytes(self) -> int:
        return math.ceil(self.payload_kb * 1024)

    @property
    def interval_ms(self) -> float:
        """Time between two status updates."""
        return 60_000.0 / self.updates_per_minute

    @property
    def updates_per_month(self) -> float:
        return self.updates_per_minute * MINUTES_PER_MONTH

    @property
    def flight_subscribers(self) -> int:
        """Subscribers of one flight (per-flight strategy)."""
        if self.subscriptions_per_flight is not None:
            return round(self.subscriptions_per_flight)
        return max(1, round(self.subscribers / self.flights))

    def memory(self, function: str) -> int:
        return self.memory_mb.get(function, 128)


def stack_memory() -> dict[str, int]:
    """Memory (MB) of each of the stack's functions, plus the chunked strategy's workers,
    which the model sizes as the fan-out function they split."""
    memory = {name: spec.memory_mb for name, spec in stack.FUNCTIONS.items()}
    memory["fanout_worker"] = memory["stream_fanout"]
    return memory
