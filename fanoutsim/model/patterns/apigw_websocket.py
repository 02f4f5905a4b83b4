"""Pattern #3, API Gateway WebSockets: the stream handler posts to every connection.

This is the project's own model (:func:`fanoutsim.model.engine.simulate`), run as it is,
so ``fanoutsim compare`` and ``fanoutsim model`` agree on Pattern #3 to the cent. The
publisher makes one PostToConnection per recipient: O(N) calls per update, bound by the
account's 10,000 requests a second. Per-flight interest maps to the ``per-flight``
strategy; ``chunked`` is the lever that spreads the posting over worker functions.
"""

from __future__ import annotations

from typing import Final

from fanoutsim.aws.apigw import FRAME_BYTES
from fanoutsim.model.engine import simulate
from fanoutsim.model.patterns.base import (
    Ask,
    Context,
    Line,
    PatternResult,
    line,
)
from fanoutsim.model.patterns.latency import coalescing_wait_ms
from fanoutsim.model.patterns.managed import transfer
from fanoutsim.model.result import ModelResult
from fanoutsim.model.scenario import Scenario

__all__ = ["NAME", "model", "scenario_of"]

NAME: Final = "apigw-websocket"
TITLE: Final = "API Gateway WebSockets (Pattern 3, this project)"


def scenario_of(ask: Ask) -> Scenario:
    """The :class:`Scenario` of the existing model that answers ``ask``; a coalesced
    message is one larger, rarer update."""
    batch = ask.batch(FRAME_BYTES)
    strategy = ask.apigw_strategy or (
        "broadcast" if ask.subscriptions_per_flight is None else "per-flight"
    )
    return Scenario(
        subscribers=ask.subscribers,
        updates_per_minute=ask.updates_per_minute / batch,
        payload_kb=ask.payload_kb * batch,
        strategy=strategy,
        flights=ask.flights,
        subscriptions_per_flight=ask.subscriptions_per_flight,
        updates=ask.updates,
    )


def model(ask: Ask, ctx: Context) -> PatternResult:
    """Run the Pattern #3 model and restate its bill as lines."""
    result = simulate(scenario_of(ask), ctx.profile, ctx.prices, seed=ask.seed)
    first, last = result.time_to_first_ms, result.time_to_last_ms
    wait = coalescing_wait_ms(ctx, ask, FRAME_BYTES, salt=30, size=first.size)
    return PatternResult(
        pattern=NAME,
        title=TITLE,
        lines=tuple(_lines(result, ask, ctx)),
        quotas=(),
        time_to_first_ms=first + wait,
        time_to_last_ms=last + wait,
        binding=_reasons(result) if not result.sustainable else (),
        notes=tuple(result.binding) if result.sustainable else (),
        stage_sources={"profile": result.profile_source},
    )


def _reasons(result: ModelResult) -> tuple[str, ...]:
    """The model's notes, those that make it unsustainable first (a rate above the
    throttle, a handler falling behind, a timeout) and the informative ones after."""
    decisive = ("needed", "falls behind", "timeout")
    return tuple(sorted(result.binding, key=lambda b: not any(w in b for w in decisive)))


def _lines(result: ModelResult, ask: Ask, ctx: Context) -> list[Line]:
    usage = result.usage_per_month
    arch = usage.architecture
    return [
        line(ctx, ask, "apigateway_websocket_messages", usage.websocket_messages),
        line(ctx, ask, "apigateway_connection_minutes", usage.connection_minutes),
        line(ctx, ask, "lambda_requests", usage.lambda_requests),
        line(ctx, ask, f"lambda_gb_seconds_{arch}", usage.lambda_gb_seconds),
        line(ctx, ask, "dynamodb_write_request_units", usage.dynamodb_write_units),
        line(ctx, ask, "dynamodb_read_request_units", usage.dynamodb_read_units),
        line(ctx, ask, "eventbridge_custom_events", usage.eventbridge_events),
        transfer(ctx, ask),
    ]
