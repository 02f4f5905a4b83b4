"""What the simulator learns about each update as it moves: trace stamps at the points the
runtime cannot see by itself, and updates that will reach nobody (with the reason).

The runtime components call these hooks from their own threads; the tracer and the
delivery book are thread-safe.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from fanoutsim.deliveries import Deliveries
from fanoutsim.functions.flight_model import TRACE_FIELD
from fanoutsim.runtime.function_runtime import Invocation
from fanoutsim.runtime.poller import trace_ids
from fanoutsim.tracing import Tracer

START_POINTS = {"flight_events": "handler_start", "stream_fanout": "fanout_start"}


class UpdateObserver:
    """Hooks for the function runtime, the bus, the stream poller and moto's stream."""

    def __init__(self, tracer: Tracer, deliveries: Deliveries) -> None:
        self.tracer = tracer
        self.deliveries = deliveries

    def invocation_started(self, invocation: Invocation) -> None:
        point = START_POINTS.get(invocation.function)
        if point:
            self.tracer.stamp_all(invocation.trace_ids, point)

    def invocation_ended(self, invocation: Invocation) -> None:
        if invocation.function != "flight_events":
            return
        self.tracer.stamp_all(invocation.trace_ids, "handler_end")
        result = invocation.result
        if isinstance(result, dict) and result.get("result") == "duplicate":
            self.drop(invocation.trace_ids, "duplicate flight: nothing written, nothing sent")

    def watch_commits(self, shard: Any) -> None:
        """Stamp ``table_write`` when moto commits a flight and appends its stream record
        (stamping when the handler's call returns would come after a fast poller's read)."""
        append = shard.add

        def add(old: Any, new: Any) -> None:
            committed = time.perf_counter()  # before the append a poller may read at once
            append(old, new)
            trace = new.attrs.get(TRACE_FIELD) if new is not None else None
            if trace is not None:
                self.tracer.stamp(str(trace.value), "table_write", committed)

        shard.add = add

    def update_rejected(self, traces: Iterable[str], error: str) -> None:
        self.drop(traces, f"flight_events failed after retries: {error}")

    def records_discarded(self, records: list[dict[str, Any]], retries: int) -> None:
        self.drop(
            trace_ids(records), f"discarded by the event source mapping after {retries} retries"
        )

    def records_filtered(self, records: list[dict[str, Any]]) -> None:
        self.drop(trace_ids(records), "filtered out by the event source mapping's FilterCriteria")

    def drop(self, traces: Iterable[str], reason: str) -> None:
        for trace_id in traces:
            self.deliveries.drop(trace_id, reason)
