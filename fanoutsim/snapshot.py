"""Everything a report is made of, read from the running components at one moment."""

from __future__ import annotations

import time

from fanoutsim.builder import Components
from fanoutsim.functions import flight_model
from fanoutsim.report import RunSnapshot

__all__ = ["take"]


def take(c: Components) -> RunSnapshot:
    """A :class:`RunSnapshot` of ``c`` as of now."""
    clients = c.subscribers.clients
    pairs = c.deliveries.pairs()
    counts = c.api.snapshot()
    duplicates, repeated = c.subscribers.duplicates()
    dropped = dict(c.deliveries.dropped)
    timelines = c.tracer.timelines()
    return RunSnapshot(
        profile=c.options.profile.name,
        transport=c.options.transport,
        endpoints=dict(c.endpoints),
        clients=len(clients),
        published=tuple(c.ledger.published),
        published_kinds=dict(c.ledger.kinds),
        status_updates_at=tuple(
            at
            for timeline in timelines
            if c.ledger.kind_of.get(timeline.trace_id) == flight_model.STATUS_UPDATED
            and (at := timeline.points.get("put_events")) is not None
        ),
        stream_batches=tuple(
            (len(i.event.get("Records", [])), i.duration_ms)
            for i in list(c.runtime.log)
            if i.function == "stream_fanout"
        ),
        deliveries={
            **pairs,
            "duplicates": duplicates,
            "repeated": repeated,
            "gone": counts["gone"],
            "failed": counts["failed"],
            "throttled": counts["throttled"],
            "posted": counts["posted"],
        },
        meter=c.meter.snapshot(time.time()),
        timelines=tuple(t for t in timelines if t.trace_id not in dropped),
        stages_over=(len(timelines), c.tracer.forgotten),
        stream={
            **c.mapping.counters(),
            "discarded_records": c.poller.discarded,
            "poller_errors": list(c.poller.errors),
        },
        dropped=dropped,
        faults=c.injector.snapshot(),
        fanout={
            "mode": c.options.fanout,
            "post_concurrency": c.options.post_concurrency,
            "owed": pairs["expected"],
            "broadcast_would_owe": c.deliveries.audience_total(),
        },
        room=c.room.snapshot(time.perf_counter()).to_dict() if c.room else None,
    )
