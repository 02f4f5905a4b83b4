"""From a simulated run to counts, billable usage, dollars and the quotas that bind."""

from __future__ import annotations

import math

import numpy as np

from fanoutsim.aws.kinesis_records import change_record_bytes
from fanoutsim.aws.pricing import SERVICES, PriceTable, Usage, cost_of
from fanoutsim.model.result import ModelResult
from fanoutsim.model.scenario import MINUTES_PER_MONTH, Scenario
from fanoutsim.model.strategies import INVOKE, POST, PUT_EVENTS, UPDATE_ITEM, FanoutPlan
from fanoutsim.model.strategies import connection_usage as connection_usage_of
from fanoutsim.model.timeline import StreamTimeline
from fanoutsim.timing.distributions import FloatArray
from fanoutsim.timing.profiles import TimingProfile

__all__ = ["assemble", "binding", "feed_usage", "handler_ms", "sustainable"]


def assemble(
    *,
    scenario: Scenario,
    profile: TimingProfile,
    prices: PriceTable,
    fan: FanoutPlan,
    seed: int,
    exact: bool,
    time_to_first: FloatArray,
    time_to_last: FloatArray,
    stages: dict[str, dict[str, float | int | None]],
    timeline: StreamTimeline,
    write_ms: FloatArray,
    worker_billed_ms: float,
    incomplete: int,
) -> ModelResult:
    """Count, meter and price a run; list what binds."""
    u = scenario.updates
    batches = int(timeline.batch_sizes.size)
    operations_total = {
        PUT_EVENTS: u,
        UPDATE_ITEM: u,
        fan.lookup_operation: timeline.lookups * fan.lookup_pages,
        POST: u * fan.posts,
    }
    invocations_total = {"flight_events": u, "stream_fanout": batches}
    if fan.workers:
        operations_total[INVOKE] = u * fan.workers
        invocations_total["fanout_worker"] = u * fan.workers
    gb_ms = (
        (
            np.maximum(1.0, np.ceil(write_ms)).sum() * scenario.memory("flight_events")
            + np.maximum(1.0, np.ceil(timeline.batch_durations)).sum()
            * scenario.memory("stream_fanout")
            + worker_billed_ms * scenario.memory("fanout_worker")
        )
        / 1024
        / 1000
    )
    total = Usage(
        websocket_messages=u * fan.posts * fan.message_units,
        lambda_requests=sum(invocations_total.values()),
        lambda_gb_seconds=float(gb_ms),
        architecture=scenario.architecture,
        dynamodb_write_units=u * fan.write_units,
        dynamodb_read_units=timeline.lookups * fan.lookup_read_units,
        eventbridge_events=u * fan.event_units,
    )
    per_update = total.scaled(1 / u) + feed_usage(scenario, fan.write_units)
    connections = connection_usage_of(scenario, profile.distribution("dynamodb_write").mean())
    connections += Usage(
        architecture=scenario.architecture,
        kinesis_stream_hours=MINUTES_PER_MONTH / 60 if scenario.stream == "kinesis" else 0.0,
    )
    monthly = per_update.scaled(scenario.updates_per_month) + connections
    cost_month = cost_of(monthly, prices)
    cost_connections = cost_of(connections, prices)
    cost_update = {
        key: (cost_month[key] - cost_connections[key]) / scenario.updates_per_month
        for key in (*SERVICES, "total")
    }
    return ModelResult(
        scenario=scenario,
        profile=profile.name,
        profile_source=f"{profile.name} profile: {profile.source} (as of {profile.as_of})",
        prices_source=prices.describe(),
        seed=seed,
        exact=exact,
        time_to_first_ms=time_to_first,
        time_to_last_ms=time_to_last,
        stages=stages,
        operations=fan.operations(),
        invocations=fan.invocations(),
        operations_total=operations_total,
        invocations_total=invocations_total,
        usage_per_update=per_update,
        usage_per_month=monthly,
        cost_per_update=cost_update,
        cost_per_month=cost_month,
        deliveries=u * fan.posts,
        incomplete_updates=incomplete,
        sustainable=sustainable(scenario, fan, timeline, incomplete),
        binding=binding(
            scenario,
            fan,
            timeline,
            incomplete,
            worker_billed_ms,
            handler_ms(scenario, fan, profile),
        ),
    )


def feed_usage(scenario: Scenario, write_units: int) -> Usage:
    """What one update costs on the change feed: nothing on a DynamoDB stream (Lambda's
    reads of it are free); on the seed's Kinesis stream, DynamoDB's change data capture
    units (one per KB, as a write) and the record written (rounded up to 1 KB) and read."""
    if scenario.stream != "kinesis":
        return Usage(architecture=scenario.architecture)
    record = change_record_bytes(scenario.payload_bytes)
    return Usage(
        architecture=scenario.architecture,
        dynamodb_cdc_units=write_units,
        kinesis_gb_in=math.ceil(record / 1024) / 1024**2,
        kinesis_gb_out=record / 1024**3,
    )


def sustainable(
    scenario: Scenario, fan: FanoutPlan, timeline: StreamTimeline, incomplete: int
) -> bool:
    """Can the pipeline keep up? The throttle must serve the posts, the stream handler must
    finish an update (on average) before the next arrives, and nothing may time out."""
    if incomplete:
        return False
    if fan.posts * scenario.updates_per_minute / 60 > scenario.quotas.connections_rps:
        return False
    busy_ms = float(timeline.batch_durations.sum())
    return busy_ms < scenario.updates * scenario.interval_ms


def handler_ms(scenario: Scenario, fan: FanoutPlan, profile: TimingProfile) -> float:
    """Mean time the stream handler needs for one update: lookup, then posting (or, when
    chunked, invoking the workers), at least as long as the throttle needs for the posts."""

    def mean(key: str) -> float:
        return profile.distribution(key).mean()

    lookup = fan.lookup_pages * mean("dynamodb_read")
    if fan.workers:
        return lookup + math.ceil(fan.workers / scenario.concurrency) * mean("lambda_invoke_call")
    lanes = math.ceil(fan.posts / scenario.concurrency) * mean("post_to_connection")
    quotas = scenario.quotas
    throttle = max(0.0, fan.posts - quotas.connections_burst) / quotas.connections_rps * 1000
    return lookup + max(lanes, throttle)


def binding(
    scenario: Scenario,
    fan: FanoutPlan,
    timeline: StreamTimeline,
    incomplete: int,
    worker_billed_ms: float,
    per_update_ms: float,
) -> list[str]:
    """Plain-language notes on each quota or limit that shapes this scenario's result."""
    quotas = scenario.quotas
    notes = []
    need = fan.posts * scenario.updates_per_minute / 60
    if need > quotas.connections_rps:
        most = quotas.connections_rps * 60 / fan.posts
        notes.append(
            f"@connections throttle: {need:,.0f} posts/s needed, {quotas.connections_rps:,.0f}/s "
            "allowed per account (API Gateway quota, can be raised); updates queue behind "
            f"each other and time-to-last grows with every update (at most {most:,.2f} "
            "updates/min are sustainable at this size)"
        )
    elif fan.posts > quotas.connections_burst:
        floor_s = (fan.posts - quotas.connections_burst) / quotas.connections_rps
        notes.append(
            f"@connections throttle: {fan.posts:,} posts per update exceed the "
            f"{quotas.connections_burst:,.0f} burst, so one update takes at least "
            f"{floor_s:,.1f} s to post"
        )
    largest = int(timeline.batch_sizes.max()) if timeline.batch_sizes.size else 0
    if largest > 1:
        notes.append(
            f"stream handler falls behind: it needs about {per_update_ms / 1000:,.1f} s per "
            f"update but updates arrive every {scenario.interval_ms / 1000:,.1f} s, and a "
            f"shard is read by one invocation at a time: batches grew to {largest} records"
        )
    if incomplete:
        notes.append(
            f"Lambda timeout ({scenario.lambda_timeout_s:g} s): {incomplete:,} of "
            f"{scenario.updates:,} updates never reached every subscriber (the invocation "
            "was cut; on AWS the batch would be retried, re-posting duplicates)"
        )
    if fan.lookup_pages > 1:
        mb = fan.lookup_pages * quotas.page_bytes / (1 << 20)
        notes.append(
            f"1 MB page limit: each {fan.lookup_operation.split(':')[1]} needs "
            f"{fan.lookup_pages} pages (about {mb:,.0f} MB); a handler ignoring "
            "LastEvaluatedKey, like the seed's, reaches only the first page"
        )
    if fan.workers:
        mean_s = worker_billed_ms / max(1, fan.workers * scenario.updates) / 1000
        busy = fan.workers * mean_s * scenario.updates_per_minute / 60
        if busy > quotas.lambda_concurrency or fan.workers > quotas.lambda_concurrency:
            notes.append(
                f"Lambda concurrency: about {max(busy, fan.workers):,.0f} workers run at once, "
                f"above the default {quotas.lambda_concurrency:,} per account; the rest wait"
            )
    return notes
