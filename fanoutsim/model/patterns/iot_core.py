"""Pattern 4, IoT Core: one MQTT publish per update, the message broker fans out.

The seed's stream handler (``src/functions/stream/4-iot.js``) publishes each change once
to the topic ``flights/events``; browsers subscribe over MQTT on WebSockets with Cognito
identities. Every message is metered in 5 KB units: the inbound publish, each PUBLISH the
broker sends, and each CONNECT and SUBSCRIBE. The broker's outbound publish rate per
account is the quota that binds a large broadcast.
"""

from __future__ import annotations

from typing import Final

from fanoutsim.model.patterns.base import (
    Ask,
    Context,
    PatternResult,
    ingest_lines,
    line,
    rate_check,
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

NAME: Final = "iot-core"
TITLE: Final = "IoT Core MQTT over WebSockets (Pattern 4)"


def model(ask: Ask, ctx: Context) -> PatternResult:
    unit = ctx.stages.number("iot_message_bytes")
    messages = ask.messages_per_month(unit)
    publisher, before = function_publisher(
        ctx, ask, unit, "iot_publish_call", "one publish per update", salt=40
    )
    quota = outbound(ctx, ask, unit, "iot_outbound_publishes_per_s", "IoT outbound publishes")
    connections = rate_check(
        ctx,
        "iot_connections_per_account",
        ask.subscribers,
        "connections",
        "IoT concurrent connections",
    )
    first, last = delivered_ms(
        ctx,
        ask,
        before,
        stage="iot_broadcast",
        rate_per_s=quota.default,
        unit_bytes=unit,
        salt=42,
    )
    metered = messages * ask.units(unit) + deliveries(ask, unit) + 2 * sessions(ask, ctx)
    return PatternResult(
        pattern=NAME,
        title=TITLE,
        lines=(
            *ingest_lines(ctx, ask),
            *publisher,
            line(
                ctx,
                ask,
                "iot_messages",
                metered,
                "messages: publishes, deliveries, CONNECTs and SUBSCRIBEs",
            ),
            line(ctx, ask, "iot_connection_minutes", ask.subscribers * MINUTES_PER_MONTH),
            transfer(ctx, ask),
        ),
        quotas=(quota, connections),
        time_to_first_ms=first,
        time_to_last_ms=last,
        stage_sources={k: ctx.stages.sources[k] for k in ("iot_publish_call", "iot_broadcast")},
    )
