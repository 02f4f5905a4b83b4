"""The three fan-out strategies as plain counts: what one status update costs in API calls.

``broadcast`` is the seed's (and the live ``stream_fanout``'s) design: the stream handler
scans the whole connections table (one Scan request per 1 MB page) and posts to every
connection from the one invocation. ``per-flight`` queries the subscriptions table (keyed
by flight id, one item per subscription: :mod:`fanoutsim.functions.subscriptions`) once
per record and posts to that flight's subscribers only. ``chunked`` keeps the Scan in the
stream handler, which becomes a coordinator: it splits the subscribers into chunks and
invokes one worker per chunk asynchronously; the workers post in parallel.

Counts here are exact integers per update (one stream record per batch, as when updates
are spaced), keyed ``service:Operation`` exactly as the live meter keys them, so a small
live run can be compared call for call.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from fanoutsim.aws.apigw import message_units as websocket_message_units
from fanoutsim.aws.eventbridge import event_units as eventbridge_event_units
from fanoutsim.aws.pricing import Usage, dynamodb_read_units, dynamodb_write_units
from fanoutsim.model.scenario import MINUTES_PER_MONTH, Scenario

__all__ = [
    "INVOKE",
    "POST",
    "PUT_EVENTS",
    "QUERY",
    "SCAN",
    "UPDATE_ITEM",
    "FanoutPlan",
    "connection_usage",
    "plan",
]

PUT_EVENTS = "events:PutEvents"
UPDATE_ITEM = "dynamodb:UpdateItem"
SCAN = "dynamodb:Scan"
QUERY = "dynamodb:Query"
POST = "apigatewaymanagementapi:PostToConnection"
INVOKE = "lambda:Invoke"


@dataclass(frozen=True)
class FanoutPlan:
    """What one update does under a strategy, before any timing."""

    strategy: str
    posts: int
    lookup_operation: str
    lookup_pages: int
    lookup_read_units: float
    lookup_per_record: bool
    job_sizes: tuple[int, ...]
    workers: int
    message_units: int
    event_units: int
    write_units: int

    def operations(self) -> dict[str, int]:
        """API calls of one update, keyed ``service:Operation`` as the live meter does."""
        ops = {
            PUT_EVENTS: 1,
            UPDATE_ITEM: 1,
            self.lookup_operation: self.lookup_pages,
            POST: self.posts,
        }
        if self.workers:
            ops[INVOKE] = self.workers
        return ops

    def invocations(self) -> dict[str, int]:
        """Lambda invocations of one update, per function."""
        calls = {"flight_events": 1, "stream_fanout": 1}
        if self.workers:
            calls["fanout_worker"] = self.workers
        return calls


def plan(scenario: Scenario) -> FanoutPlan:
    """The per-update counts of ``scenario``'s strategy."""
    page = scenario.quotas.page_bytes
    if scenario.strategy == "per-flight":
        posts = scenario.flight_subscribers
        lookup_bytes = posts * scenario.subscription_item_bytes
        operation = QUERY
    else:
        posts = scenario.subscribers
        lookup_bytes = posts * scenario.connection_item_bytes
        operation = SCAN
    pages = max(1, math.ceil(lookup_bytes / page))
    read_units = sum(dynamodb_read_units(min(page, lookup_bytes - i * page)) for i in range(pages))
    if scenario.strategy == "chunked":
        full, rest = divmod(posts, scenario.chunk_size)
        jobs = (scenario.chunk_size,) * full + ((rest,) if rest else ())
        workers = len(jobs)
    else:
        jobs = (posts,) if posts else ()
        workers = 0
    return FanoutPlan(
        strategy=scenario.strategy,
        posts=posts,
        lookup_operation=operation,
        lookup_pages=pages,
        lookup_read_units=read_units,
        lookup_per_record=scenario.strategy == "per-flight",
        job_sizes=jobs,
        workers=workers,
        message_units=websocket_message_units(scenario.payload_bytes),
        event_units=eventbridge_event_units(scenario.payload_bytes),
        write_units=dynamodb_write_units(scenario.payload_bytes),
    )


def connection_usage(scenario: Scenario, write_ms: float) -> Usage:
    """Monthly usage of keeping N subscribers connected, independent of updates.

    Every subscriber is connected all month, reconnecting every ``session_minutes`` (API
    Gateway closes a connection after 2 hours). Each session runs ``$connect`` (PutItem)
    and ``$disconnect`` (DeleteItem); per-flight subscribers subscribe at ``$connect``
    (``?flightId=``), which writes one subscription item beside the connection's row, and
    ``$disconnect`` deletes it again. ``write_ms`` is the mean write latency,
    which is what those small functions are billed for.
    """
    minutes = scenario.subscribers * MINUTES_PER_MONTH
    sessions = minutes / scenario.session_minutes
    billed_s = max(1, math.ceil(write_ms)) / 1000
    functions = ["on_connect", "on_disconnect"]
    item_units = dynamodb_write_units(scenario.connection_item_bytes)
    writes = 2 * item_units
    if scenario.strategy == "per-flight":
        writes += 2 * dynamodb_write_units(scenario.subscription_item_bytes)  # put, delete
    gb_s = sum(billed_s * scenario.memory(f) / 1024 for f in functions)
    return Usage(
        connection_minutes=minutes,
        lambda_requests=sessions * len(functions),
        lambda_gb_seconds=sessions * gb_s,
        architecture=scenario.architecture,
        dynamodb_write_units=sessions * writes,
    )
