"""Pattern 1, AppSync GraphQL subscriptions: one mutation per update, AppSync fans out.

The seed's stream handler (``src/functions/stream/1-appsync.js``) sends one signed
mutation per change record; AppSync delivers it to every subscription on that mutation
(``@aws_subscribe``). Each delivered message is a real-time update at $2 per million, in
5 KB units, and so are connects and subscribes. Pattern 2 (EventBridge straight to
AppSync) has the same delivery bill without the stream function.
"""

from __future__ import annotations

from typing import Final

from fanoutsim.model.patterns.base import (
    Ask,
    Context,
    PatternResult,
    ingest_lines,
    line,
)
from fanoutsim.model.patterns.latency import delivered_ms
from fanoutsim.model.patterns.managed import (
    deliveries,
    function_publisher,
    outbound,
    sessions,
    transfer,
)
from fanoutsim.model.scenario import MINUTES_PER_MONTH

__all__ = ["NAME", "model"]

NAME: Final = "appsync-graphql"
TITLE: Final = "AppSync GraphQL subscriptions (Pattern 1)"


def model(ask: Ask, ctx: Context) -> PatternResult:
    unit = ctx.stages.number("appsync_message_bytes")
    messages = ask.messages_per_month(unit)
    publisher, before = function_publisher(
        ctx, ask, unit, "appsync_mutation_call", "one mutation per update", salt=10
    )
    quota = outbound(
        ctx, ask, unit, "appsync_graphql_outbound_messages_per_s", "AppSync outbound messages"
    )
    first, last = delivered_ms(
        ctx,
        ask,
        before,
        stage="appsync_broadcast",
        rate_per_s=quota.default,
        unit_bytes=unit,
        salt=12,
    )
    return PatternResult(
        pattern=NAME,
        title=TITLE,
        lines=(
            *ingest_lines(ctx, ask),
            *publisher,
            line(ctx, ask, "appsync_graphql_operations", messages, "mutations"),
            line(
                ctx,
                ask,
                "appsync_realtime_updates",
                deliveries(ask, unit) + 2 * sessions(ask, ctx),
                "real-time updates: deliveries, connects and subscribes",
            ),
            line(ctx, ask, "appsync_connection_minutes", ask.subscribers * MINUTES_PER_MONTH),
            transfer(ctx, ask),
        ),
        quotas=(quota,),
        time_to_first_ms=first,
        time_to_last_ms=last,
        stage_sources={
            k: ctx.stages.sources[k] for k in ("appsync_mutation_call", "appsync_broadcast")
        },
    )
