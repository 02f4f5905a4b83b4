"""Pattern 5, AppSync Events: one HTTP publish per update to a channel, AppSync fans out.

The seed publishes without a function: an EventBridge Pipe reads the stream and starts a
Step Functions Standard execution whose HTTP task posts the change to the Event API's
``/event`` endpoint (``src/workflows/publishEvents.asl.yaml``). Every operation (the
publish, each delivery, each connect and subscribe) is $1 per million in 5 KB units.
"""

from __future__ import annotations

import math
from typing import Final

from fanoutsim.model.patterns.base import Ask, Context, PatternResult, ingest_lines, line
from fanoutsim.model.patterns.latency import delivered_ms, to_table_ms
from fanoutsim.model.patterns.managed import deliveries, outbound, sessions, transfer
from fanoutsim.model.scenario import MINUTES_PER_MONTH

__all__ = ["NAME", "model"]

NAME: Final = "appsync-events"
TITLE: Final = "AppSync Events (Pattern 5)"

#: EventBridge Pipes meters requests in 64 KB chunks.
PIPES_CHUNK_BYTES: Final = 64 * 1024


def model(ask: Ask, ctx: Context) -> PatternResult:
    unit = ctx.stages.number("appsync_message_bytes")
    messages = ask.messages_per_month(unit)
    batch = ask.batch(unit)
    chunks = math.ceil(ask.payload_kb * 1024 * batch / PIPES_CHUNK_BYTES)
    # The Map state and one HTTP task per record: 2 transitions for a batch of one.
    per_record = ctx.stages.number("stepfunctions_transitions_per_update") - 1
    transitions = messages * (1 + per_record * batch)
    quota = outbound(
        ctx, ask, unit, "appsync_events_outbound_messages_per_s", "AppSync Events outbound"
    )
    rng = ctx.rng(ask, 21)
    before = (
        to_table_ms(ctx, ask, salt=20)
        + ctx.profile.poll_wait_ms(rng, 4000)
        + ctx.stages.stage("appsync_events_publish_path").sample_array(rng, 4000)
    )
    first, last = delivered_ms(
        ctx,
        ask,
        before,
        stage="appsync_broadcast",
        rate_per_s=quota.default,
        unit_bytes=unit,
        salt=22,
    )
    operations = messages * ask.units(unit) + deliveries(ask, unit) + 2 * sessions(ask, ctx)
    return PatternResult(
        pattern=NAME,
        title=TITLE,
        lines=(
            *ingest_lines(ctx, ask),
            line(ctx, ask, "pipes_requests", messages * chunks, "Pipe reading the stream"),
            line(ctx, ask, "stepfunctions_standard_transitions", transitions, "publish workflow"),
            line(
                ctx,
                ask,
                "appsync_events_operations",
                operations,
                "Event API operations: publishes, deliveries, connects and subscribes",
            ),
            line(
                ctx, ask, "appsync_events_connection_minutes", ask.subscribers * MINUTES_PER_MONTH
            ),
            transfer(ctx, ask),
        ),
        quotas=(quota,),
        time_to_first_ms=first,
        time_to_last_ms=last,
        stage_sources={
            k: ctx.stages.sources[k] for k in ("appsync_events_publish_path", "appsync_broadcast")
        },
    )
