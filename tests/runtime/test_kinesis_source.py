"""The seed's change feed read as Lambda reads it: every shard of the Kinesis stream, from
its oldest record, each shard's records in order and named in their ``eventID``.

A record's partition key, MD5 hashed to a 128-bit integer, picks its shard, so one key keeps
one shard: https://docs.aws.amazon.com/kinesis/latest/APIReference/API_PutRecord.html.
An on-demand stream starts with 4 MB/s of write capacity, a shard 1 MB/s, so four shards:
https://docs.aws.amazon.com/streams/latest/dev/how-do-i-size-a-stream.html
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from fanoutsim import provision, stack
from fanoutsim.moto.account import MotoAccount
from fanoutsim.runtime.kinesis_source import KinesisSource


@pytest.fixture
def kinesis() -> Iterator[Any]:
    account = MotoAccount(stack.REGION)
    try:
        yield boto3.client("kinesis", region_name=stack.REGION)
    finally:
        account.stop()


def _put(kinesis: Any, keys: list[str], start: int = 0) -> None:
    for n, key in enumerate(keys, start):
        data = json.dumps({"key": key, "n": n}).encode()
        kinesis.put_record(StreamName=provision.CHANGE_STREAM, Data=data, PartitionKey=key)


def test_every_shard_is_read_each_in_order(kinesis: Any) -> None:
    arn, name = provision.create_change_stream(kinesis)
    shards = kinesis.describe_stream(StreamName=name)["StreamDescription"]["Shards"]
    assert len(shards) == 4  # the on-demand stream's four
    read_bytes: list[int] = []
    source = KinesisSource(kinesis, arn, name, region=stack.REGION, on_read=read_bytes.append)
    keys = [f"flight-{i}" for i in range(24)]
    _put(kinesis, keys * 2)
    records = source.read()
    assert len(records) == len(read_bytes) == 48
    by_shard: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        by_shard.setdefault(record["eventID"].split(":")[0], []).append(record)
    assert len(by_shard) > 1  # 24 keys spread over the shards by their hash
    for shard, part in by_shard.items():
        sequences = [int(r["kinesis"]["sequenceNumber"]) for r in part]
        assert sequences == sorted(sequences)  # a shard's records in their order
        assert {r["kinesis"]["partitionKey"] for r in part}.isdisjoint(
            {r["kinesis"]["partitionKey"] for s, p in by_shard.items() if s != shard for r in p}
        )  # one key, one shard
    assert source.read() == []
    _put(kinesis, ["late"], start=48)
    assert [r["kinesis"]["partitionKey"] for r in source.read()] == ["late"]


def test_a_stream_of_one_shard_can_be_asked_for(kinesis: Any) -> None:
    arn, name = provision.create_change_stream(kinesis, shards=1)
    source = KinesisSource(kinesis, arn, name, region=stack.REGION)
    _put(kinesis, [f"k{i}" for i in range(10)])
    records = source.read()
    assert {r["eventID"].split(":")[0] for r in records} == {"shardId-000000000000"}
    assert [r["kinesis"]["partitionKey"] for r in records] == [f"k{i}" for i in range(10)]
