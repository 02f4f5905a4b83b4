"""ParallelizationFactor: a shard's mapping as lanes, each key in order, lanes side by side.

ParallelizationFactor is "the number of batches to process concurrently from each shard";
records with the same partition key stay in order:
https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html
"""

from __future__ import annotations

from typing import Any

import pytest

from fanoutsim.aws.esm import MappingConfig, StreamMapping
from fanoutsim.aws.esm_lanes import ShardMapping
from fanoutsim.aws.stream_records import StreamRecord
from fanoutsim.errors import ConfigError, SimulatorError


def _record(seq: int, key: str) -> dict[str, Any]:
    return {
        "eventID": str(seq),
        "eventName": "MODIFY",
        "eventSource": "aws:dynamodb",
        "dynamodb": {
            "Keys": {"flightId": {"S": key}},
            "NewImage": {"flightId": {"S": key}, "n": {"N": str(seq)}},
            "SequenceNumber": str(seq),
        },
    }


KEYS = [f"flight-{i}" for i in range(12)]


def test_factor_one_is_one_mapping() -> None:
    config = MappingConfig(batch_size=3)
    lanes, plain = ShardMapping(config), StreamMapping(config)
    records = [_record(i, KEYS[i % 4]) for i in range(7)]
    lanes.offer(records, 0.0)
    plain.offer(records, 0.0)
    while (a := lanes.next_batch(1.0)) is not None:
        b = plain.next_batch(1.0)
        assert b is not None and a.records == b.records
        assert lanes.next_batch(1.0) is None  # one in flight, as one mapping
        lanes.complete(a, None, 2.0)
        plain.complete(b, None, 2.0)
    assert plain.next_batch(1.0) is None and lanes.idle
    assert lanes.counters() == plain.counters()


def test_lanes_run_side_by_side_and_each_key_keeps_its_order() -> None:
    shard = ShardMapping(MappingConfig(batch_size=1, parallelization_factor=4))
    records = [_record(i, KEYS[i % len(KEYS)]) for i in range(48)]
    assert len({shard.lane_of(r) for r in records}) == 4  # 12 keys spread over the lanes
    shard.offer(records, 0.0)
    seen: dict[str, list[int]] = {}
    most_in_flight = 0
    while not shard.idle:
        batches = []
        while (batch := shard.next_batch(1.0)) is not None:
            batches.append(batch)
        most_in_flight = max(most_in_flight, shard.in_flight)
        assert shard.in_flight == len(batches) <= 4
        for batch in batches:
            for record in batch.records:
                key = StreamRecord(record).partition_key
                seen.setdefault(key, []).append(int(StreamRecord(record).sequence_number))
            shard.complete(batch, None, 2.0)
    assert most_in_flight == 4
    assert all(order == sorted(order) and len(order) == 4 for order in seen.values())
    assert shard.counters()["succeeded_records"] == 48


def test_a_failing_batch_holds_only_its_own_lane() -> None:
    shard = ShardMapping(MappingConfig(batch_size=1, parallelization_factor=2))
    stuck_key = next(k for k in KEYS if shard.lane_of(_record(0, k)) == 0)
    free_key = next(k for k in KEYS if shard.lane_of(_record(0, k)) == 1)
    shard.offer([_record(1, stuck_key), _record(2, stuck_key), _record(3, free_key)], 0.0)
    first, second = shard.next_batch(1.0), shard.next_batch(1.0)
    assert first is not None and second is not None
    stuck, free = (first, second) if shard.lane_of(first.records[0]) == 0 else (second, first)
    shard.complete(stuck, RuntimeError("boom"), 2.0)  # retried: its lane waits for it
    shard.complete(free, None, 2.0)
    retry = shard.next_batch(3.0)
    assert retry is not None and retry.is_retry and retry.records == stuck.records
    assert shard.next_batch(3.0) is None  # record 2 waits behind the retry, in order
    with pytest.raises(SimulatorError, match="not a batch in flight"):
        shard.complete(free, None, 4.0)


def test_a_kinesis_record_is_laned_by_its_partition_key() -> None:
    shard = ShardMapping(MappingConfig(parallelization_factor=10))
    record = {"eventSource": "aws:kinesis", "kinesis": {"partitionKey": "k1", "data": ""}}
    assert StreamRecord(record).partition_key == "k1"
    assert shard.lane_of(record) == shard.lane_of({**record, "eventID": "other"})


def _on_shard(record: dict[str, Any], shard: int) -> dict[str, Any]:
    return {**record, "eventID": f"shardId-{shard:012d}:{record['eventID']}"}


def test_each_shard_has_its_own_lanes_and_holds_only_them() -> None:
    """Several shards: a poller a shard, each with the factor's batches in flight."""
    shards = ShardMapping(MappingConfig(batch_size=1, parallelization_factor=2), shards=4)
    assert len(shards.lanes) == 8
    records = [_on_shard(_record(i, KEYS[i % len(KEYS)]), i % 4) for i in range(16)]
    for record in records:  # a record's lane is one of its own shard's two
        assert shards.lane_of(record) // 2 == int(record["eventID"][8:20])
    one = ShardMapping(MappingConfig(batch_size=1), shards=2)
    one.offer([_on_shard(_record(1, "a"), 0), _on_shard(_record(2, "b"), 1)], 0.0)
    first, second = one.next_batch(1.0), one.next_batch(1.0)
    assert first is not None and second is not None  # shard 0's batch does not hold shard 1
    assert one.next_batch(1.0) is None and one.in_flight == 2


def test_a_stream_has_at_least_one_shard() -> None:
    with pytest.raises(ConfigError, match="at least one shard"):
        ShardMapping(shards=0)
