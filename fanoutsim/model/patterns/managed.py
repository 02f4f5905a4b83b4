"""The parts the service-fan-out patterns share: sessions, deliveries and the outbound rate.

In AppSync GraphQL, AppSync Events and IoT Core the publisher makes one call per update
and the service copies it to every subscriber; what differs is the price of a copy, the
metering unit, the quota on copies a second and the path from the stream to the service.
"""

from __future__ import annotations

from fanoutsim.model.patterns.base import (
    SAMPLES,
    Ask,
    Context,
    Line,
    QuotaCheck,
    lambda_lines,
    line,
    rate_check,
)
from fanoutsim.model.patterns.latency import to_stream_consumer_ms
from fanoutsim.model.scenario import MINUTES_PER_MONTH, stack_memory
from fanoutsim.timing.distributions import FloatArray

__all__ = ["deliveries", "function_publisher", "outbound", "sessions", "transfer"]


def sessions(ask: Ask, ctx: Context) -> float:
    """Connections opened a month: every subscriber, reconnecting every session."""
    return ask.subscribers * MINUTES_PER_MONTH / ctx.stages.number("session_minutes")


def deliveries(ask: Ask, unit_bytes: float) -> float:
    """Metered copies a month: each message to each recipient, in metering units."""
    return ask.recipients * ask.messages_per_month(unit_bytes) * ask.units(unit_bytes)


def outbound(ctx: Context, ask: Ask, unit_bytes: float, limit: str, label: str) -> QuotaCheck:
    """The service's outbound rate needed on average (copies a second) against its quota."""
    per_s = ask.recipients * ask.messages_per_month(unit_bytes) / (MINUTES_PER_MONTH * 60)
    return rate_check(ctx, limit, per_s, "messages/s", label)


def transfer(ctx: Context, ask: Ask) -> Line:
    """Bytes to subscribers: every update to every recipient (common to the push patterns)."""
    gb = ask.recipients * ask.updates_per_month * ask.payload_kb / (1024 * 1024)
    return line(ctx, ask, "data_transfer_out", gb, "data transfer out to subscribers")


def function_publisher(
    ctx: Context, ask: Ask, unit_bytes: float, call_stage: str, what: str, salt: int
) -> tuple[list[Line], FloatArray]:
    """A stream function that makes one call per message (a mutation, an MQTT publish):
    its bill lines, and samples of the time until the service has the update."""
    messages = ask.messages_per_month(unit_bytes)
    call = ctx.stages.stage(call_stage)
    billed_ms = max(1, round(call.mean()))
    gb_s = messages * billed_ms * stack_memory()["stream_fanout"] / 1024 / 1000
    lines = lambda_lines(ctx, ask, messages, gb_s, f"stream function ({what})")
    before = to_stream_consumer_ms(ctx, ask, salt) + call.sample_array(
        ctx.rng(ask, salt + 5), SAMPLES
    )
    return lines, before
