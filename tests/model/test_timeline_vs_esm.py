"""The model's stream consumer batches records as the live event source mapping does.

``model/timeline.py: run_consumer`` walks updates through one shard's consumer in virtual
time; ``aws/esm.py: StreamMapping`` is the state machine the live poller drives. Fed the
same records (when each becomes readable) and the same work per record, both must form
the same batches at the same times: one invocation at a time per shard, each taking every
record ready when it starts, up to BatchSize.

Source:
https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from fanoutsim.aws.esm import MappingConfig, StreamMapping
from fanoutsim.model.timeline import StreamInputs, run_consumer


def _model(ready: list[float], work: list[float], batch_size: int) -> list[tuple[float, int]]:
    n = len(ready)
    zeros = np.zeros(n)
    inputs = StreamInputs(
        ready=np.asarray(ready),
        residual=zeros,
        overhead=zeros,
        cold_start=0.0,
        lookup=zeros,
        q=zeros,
        last=np.asarray(work),
        dispatch=zeros,
    )
    timeline = run_consumer(
        inputs,
        posts=1,
        batch_size=batch_size,
        per_record_lookup=False,
        chunked=False,
        rate_per_ms=1e9,  # no throttle: each record's work is all its time
        burst=1.0,
        timeout_ms=math.inf,
    )
    return list(zip(timeline.batch_starts.tolist(), timeline.batch_sizes.tolist(), strict=True))


def _mapping(ready: list[float], work: list[float], batch_size: int) -> list[tuple[float, int]]:
    """Drive the live state machine in virtual time: a record is offered when it becomes
    readable, an invocation starts when the consumer is free, and lasts its records' work."""
    mapping = StreamMapping(MappingConfig(batch_size=batch_size))
    records = [{"dynamodb": {"SequenceNumber": str(i)}} for i in range(len(ready))]
    batches: list[tuple[float, int]] = []
    offered, free = 0, -math.inf
    while offered < len(ready) or not mapping.idle:
        now = max(free, ready[offered] if mapping.backlog == 0 else -math.inf)
        while offered < len(ready) and ready[offered] <= now:
            mapping.offer([records[offered]], ready[offered])
            offered += 1
        batch = mapping.next_batch(now)
        assert batch is not None
        indices = [int(r["dynamodb"]["SequenceNumber"]) for r in batch.records]
        free = now + sum(work[i] for i in indices)
        mapping.complete(batch, {"batchItemFailures": []}, free)
        batches.append((now, len(indices)))
    return batches


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("batch_size", [1, 3, 100])
def test_the_same_records_make_the_same_batches(seed: int, batch_size: int) -> None:
    rng = np.random.default_rng(seed)
    ready = np.cumsum(rng.exponential(20.0, size=60)).tolist()  # an update every 20 ms
    work = rng.exponential(30.0, size=60).tolist()  # slower than they come: batches grow
    model = _model(ready, work, batch_size)
    live = _mapping(ready, work, batch_size)
    assert [size for _, size in model] == [size for _, size in live]
    assert [start for start, _ in model] == pytest.approx([start for start, _ in live])
    assert max(size for _, size in live) <= batch_size
    if batch_size > 1:
        assert max(size for _, size in live) > 1  # the case the comparison is for
