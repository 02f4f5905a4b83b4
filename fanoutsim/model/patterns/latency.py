"""Latency of the managed patterns, sampled from the timing profile and the stage file.

Every pattern starts the same way (PutEvents, the view-model function, its write) and
most then wait for a stream consumer; the managed services add their own publish path and
fan-out. The last subscriber also waits for the service to send every copy at its
quota's rate, which is what makes a broadcast's tail grow with N even when the publisher's
work does not.
"""

from __future__ import annotations

import numpy as np

from fanoutsim.model.patterns.base import SAMPLES, Ask, Context
from fanoutsim.timing.distributions import FloatArray

__all__ = [
    "coalescing_wait_ms",
    "delivered_ms",
    "service_fanout_ms",
    "to_stream_consumer_ms",
    "to_table_ms",
]


def to_table_ms(ctx: Context, ask: Ask, salt: int) -> FloatArray:
    """Samples of PutEvents until the view-model row is written (the shared ingest)."""
    rng, p = ctx.rng(ask, salt), ctx.profile
    return (
        p.distribution("eventbridge_delivery").sample_array(rng, SAMPLES)
        + p.distribution("lambda_warm_overhead").sample_array(rng, SAMPLES)
        + p.distribution("dynamodb_write").sample_array(rng, SAMPLES)
    )


def to_stream_consumer_ms(ctx: Context, ask: Ask, salt: int) -> FloatArray:
    """Samples of PutEvents until a stream consumer (a Lambda function) starts: the shared
    ingest, the wait for the next poll and the stream's delivery (as the model's timeline)."""
    rng, p = ctx.rng(ask, salt + 1), ctx.profile
    return (
        to_table_ms(ctx, ask, salt)
        + p.poll_wait_ms(rng, SAMPLES)
        + p.distribution("stream_to_function").sample_array(rng, SAMPLES)
        + p.distribution("lambda_warm_overhead").sample_array(rng, SAMPLES)
    )


def service_fanout_ms(
    ctx: Context, ask: Ask, stage: str, rate_per_s: float, salt: int
) -> tuple[FloatArray, FloatArray]:
    """First and last delivery after a service receives one update: both take the stage's
    delay, and the last also waits while the service sends every copy at the quota's rate
    (the spread between subscribers below that rate is not modelled: no figure exists)."""
    delay = ctx.stages.stage(stage).sample_array(ctx.rng(ask, salt), SAMPLES)
    return delay, delay + ask.recipients / rate_per_s * 1000


def coalescing_wait_ms(
    ctx: Context, ask: Ask, unit_bytes: float, salt: int, size: int = SAMPLES
) -> FloatArray:
    """Extra wait an update spends held for coalescing (uniform over the window when a
    message carries more than one update, else none)."""
    if ask.batch(unit_bytes) <= 1:
        return np.zeros(size)
    return ctx.rng(ask, salt).uniform(0.0, ask.coalesce_s * 1000, size)


def delivered_ms(
    ctx: Context,
    ask: Ask,
    before: FloatArray,
    *,
    stage: str,
    rate_per_s: float,
    unit_bytes: float,
    salt: int,
) -> tuple[FloatArray, FloatArray]:
    """Time to the first and the last subscriber: ``before`` (until the service has the
    update), the service's fan-out, the client's network and any coalescing wait."""
    first, last = service_fanout_ms(ctx, ask, stage, rate_per_s, salt)
    rng = ctx.rng(ask, salt + 7)
    network = ctx.profile.distribution("client_network")
    wait = coalescing_wait_ms(ctx, ask, unit_bytes, salt + 9)
    return (
        before + first + network.sample_array(rng, SAMPLES) + wait,
        before + last + network.sample_array(rng, SAMPLES) + wait,
    )
