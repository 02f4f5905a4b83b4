"""Pattern 0, polling: every client asks the REST API for the board every T seconds.

The seed's frontend (``Polling.jsx``) polls ``GET /flights`` every 15 s by default; a
function scans the flights table and returns every flight. The bill grows with N / T and
not with the update rate; the freshness is the interval: a client sees an update at its
next poll, so the last of N clients waits almost a whole interval. With per-flight
interest a client asks for its one flight (``GET /flights/{flightId}``, one item).
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np

from fanoutsim.aws.pricing import dynamodb_read_units
from fanoutsim.model.patterns.base import (
    SAMPLES,
    Ask,
    Context,
    PatternResult,
    ingest_lines,
    lambda_lines,
    line,
    rate_check,
)
from fanoutsim.model.patterns.latency import to_table_ms
from fanoutsim.model.scenario import MINUTES_PER_MONTH, stack_memory

__all__ = ["NAME", "model"]

NAME: Final = "polling"
TITLE: Final = "Polling a REST API (Pattern 0)"

#: DynamoDB returns at most 1 MB per Scan page.
PAGE_BYTES: Final = 1 << 20


def model(ask: Ask, ctx: Context) -> PatternResult:
    interval = ask.poll_interval_s or ctx.stages.number("polling_interval_s")
    requests = ask.subscribers * MINUTES_PER_MONTH * 60 / interval
    items = ask.flights if ask.subscriptions_per_flight is None else 1
    body = items * ask.payload_kb * 1024
    pages = max(1, math.ceil(body / PAGE_BYTES))
    read_ms = ctx.profile.distribution("dynamodb_read").mean() * pages
    gb_s = requests * max(1, math.ceil(read_ms)) * stack_memory()["stream_fanout"] / 1024 / 1000
    per_s = requests / (MINUTES_PER_MONTH * 60)
    quotas = (
        rate_check(ctx, "account_requests_per_s", per_s, "requests/s", "API Gateway throttle"),
        rate_check(
            ctx,
            "lambda_concurrent_executions",
            per_s * read_ms / 1000,
            "functions at once",
            "Lambda concurrency",
        ),
    )
    first, last = _freshness(ctx, ask, interval)
    return PatternResult(
        pattern=NAME,
        title=f"{TITLE}, every {interval:g} s",
        lines=(
            *ingest_lines(ctx, ask),
            line(ctx, ask, "apigateway_rest_requests", requests, "GET requests"),
            *lambda_lines(ctx, ask, requests, gb_s, "read function"),
            line(
                ctx,
                ask,
                "dynamodb_read_request_units",
                requests * dynamodb_read_units(body),
                "Scan (or GetItem) per request, eventually consistent",
            ),
            line(
                ctx,
                ask,
                "data_transfer_out",
                requests * body / 1024**3,
                "data transfer out: the board in every response",
            ),
        ),
        quotas=quotas,
        time_to_first_ms=first,
        time_to_last_ms=last,
        notes=(
            f"bills every poll whether or not anything changed: {per_s:,.0f} requests/s "
            f"for {ask.updates_per_minute:g} updates/min",
        ),
        stage_sources={"rest_request": ctx.stages.sources["rest_request"]},
    )


def _freshness(ctx: Context, ask: Ask, interval_s: float) -> tuple[np.ndarray, np.ndarray]:
    """The first and last of R clients polling at random phases see an update after the
    minimum and maximum of R uniform waits over one interval, plus one request."""
    rng = ctx.rng(ask, 50)
    r = max(1.0, ask.recipients)
    v = rng.uniform(0.0, 1.0, SAMPLES) ** (1.0 / r)
    request = ctx.stages.stage("rest_request")
    before = to_table_ms(ctx, ask, salt=51)
    first = before + interval_s * 1000 * (1.0 - v) + request.sample_array(rng, SAMPLES)
    last = before + interval_s * 1000 * v + request.sample_array(rng, SAMPLES)
    return first, last
