"""The sequential part of the model: the stream consumer and the throttle's carried state.

Everything per update that does not depend on other updates is drawn vectorised elsewhere;
what remains sequential is cheap scalar arithmetic, one step per update:

- the table's stream has one shard and its event source mapping runs one invocation at a
  time, so a batch starts when its first record is ready *and* the previous batch is done;
  records that became ready meanwhile join the batch (up to BatchSize), as the live
  poller does;
- the stream handler looks the subscribers up once per batch (per record for per-flight),
  then posts record after record (broadcast, per-flight) or invokes the workers and
  returns (chunked);
- the account throttle's limiter state ``X`` moves forward with every update's posts;
- an invocation that runs past the Lambda timeout is cut there: its remaining records are
  not delivered (on AWS the batch would be retried, posting duplicates; not modelled).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from fanoutsim.timing.distributions import FloatArray

__all__ = ["StreamInputs", "StreamTimeline", "run_consumer"]


@dataclass(frozen=True)
class StreamInputs:
    """Per-update draws the consumer needs (all ms; absolute times from the first PutEvents)."""

    ready: FloatArray  # record readable on the stream (write + wait for the poll)
    residual: FloatArray  # stream_to_function remainder, per batch
    overhead: FloatArray  # warm invoke overhead of the stream handler, per batch
    cold_start: float  # the first batch's cold start (0 if cold starts are off)
    lookup: FloatArray  # Scan/Query time (all pages)
    q: FloatArray  # from the demand curve: max_k t(k) - (k - 1) / R (relative)
    last: FloatArray  # unthrottled completion of the last post (relative)
    dispatch: FloatArray  # coordinator's time to invoke the workers (chunked)


@dataclass(frozen=True)
class StreamTimeline:
    """What the consumer did: per update and per batch."""

    stream_record: FloatArray
    fanout_start: FloatArray
    origin: FloatArray  # when this update's posting (or dispatching) began
    x0: FloatArray  # throttle limiter state before this update's posts
    incomplete: np.ndarray  # bool: cut by the Lambda timeout before its last post
    skipped: np.ndarray  # bool: cut before its first post (nobody received it)
    batch_starts: FloatArray  # fanout start of each batch
    batch_durations: FloatArray  # billed duration of each stream handler invocation
    batch_sizes: np.ndarray  # records per batch
    lookups: int  # Scan/Query lookups made (pages not included)


def run_consumer(
    inputs: StreamInputs,
    *,
    posts: int,
    batch_size: int,
    per_record_lookup: bool,
    chunked: bool,
    rate_per_ms: float,
    burst: float,
    timeout_ms: float,
) -> StreamTimeline:
    """Walk the updates in order through the single stream consumer."""
    ready = inputs.ready.tolist()
    residual, overhead = inputs.residual.tolist(), inputs.overhead.tolist()
    lookup, q = inputs.lookup.tolist(), inputs.q.tolist()
    last, dispatch = inputs.last.tolist(), inputs.dispatch.tolist()
    count = len(ready)
    record, start_of, origin, x0 = ([0.0] * count for _ in range(4))
    incomplete = [False] * count
    skipped = [False] * count
    batch_starts: list[float] = []
    durations: list[float] = []
    sizes: list[int] = []
    tat = -math.inf  # throttle limiter state (theoretical arrival time)
    free = -math.inf  # when the consumer finished its previous batch
    spacing = 1.0 / rate_per_ms
    lookups = 0
    i = 0
    while i < count:
        read_at = max(ready[i], free)
        j = i + 1
        while j < count and j - i < batch_size and ready[j] <= read_at:
            j += 1
        invoke = inputs.cold_start if not batch_starts and inputs.cold_start else overhead[i]
        begin = read_at + residual[i] + invoke
        deadline = begin + timeout_ms
        now = begin
        if not per_record_lookup:
            now += lookup[i]
            lookups += 1
        for u in range(i, j):
            if now > deadline:  # the invocation was cut before reaching this record
                record[u], start_of[u], origin[u], x0[u] = read_at, begin, deadline, tat
                incomplete[u] = skipped[u] = True
                continue
            if per_record_lookup:
                now += lookup[u]
                lookups += 1
            record[u], start_of[u], origin[u], x0[u] = read_at, begin, now, tat
            if posts:
                base = max(tat, now + q[u])
                tat = base + posts * spacing
                if chunked:
                    now += dispatch[u]
                else:
                    now = max(now + last[u], base + (posts - burst) * spacing)
            incomplete[u] = now > deadline
        batch_starts.append(begin)
        durations.append(min(now, deadline) - begin)
        sizes.append(j - i)
        free = begin + durations[-1]
        i = j
    return StreamTimeline(
        stream_record=np.asarray(record),
        fanout_start=np.asarray(start_of),
        origin=np.asarray(origin),
        x0=np.asarray(x0),
        incomplete=np.asarray(incomplete),
        skipped=np.asarray(skipped),
        batch_starts=np.asarray(batch_starts),
        batch_durations=np.asarray(durations),
        batch_sizes=np.asarray(sizes),
        lookups=lookups,
    )
