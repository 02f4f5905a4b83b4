"""Reading the seed's change feed: one shard of a Kinesis data stream, in Lambda's shape.

The stream poller (:mod:`fanoutsim.runtime.poller`) asks a source for the records that
arrived since its last read; this one reads the Kinesis stream the flights table's changes
go to (``stream="kinesis"``) and hands them over as a ``Kinesis`` event source does
(:func:`fanoutsim.aws.kinesis_records.to_lambda_record`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fanoutsim.aws import kinesis_records

__all__ = ["KinesisSource"]


class KinesisSource:
    """The stream's first (only) shard, from its oldest record (``TRIM_HORIZON``)."""

    def __init__(
        self,
        kinesis: Any,
        stream_arn: str,
        stream_name: str,
        *,
        region: str,
        on_read: Callable[[int], None] = lambda record_bytes: None,
    ) -> None:
        self._kinesis = kinesis
        self._on_read = on_read
        self.stream_arn = stream_arn
        self._name = stream_name
        self._region = region
        self._shard = ""
        self._iterator: str | None = None
        account = stream_arn.split(":")[4]
        self._role = f"arn:aws:iam::{account}:role/fanoutsim-stream-fanout"

    def read(self) -> list[dict[str, Any]]:
        """The records since the last read (at most 1,000), in Lambda's shape."""
        if self._iterator is None:
            shards = self._kinesis.describe_stream(StreamName=self._name)["StreamDescription"]
            self._shard = shards["Shards"][0]["ShardId"]
            self._iterator = self._kinesis.get_shard_iterator(
                StreamName=self._name, ShardId=self._shard, ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
        page = self._kinesis.get_records(ShardIterator=self._iterator, Limit=1000)
        self._iterator = page["NextShardIterator"]
        for record in page.get("Records", []):
            self._on_read(len(record["Data"]))
        return [
            kinesis_records.to_lambda_record(
                r,
                stream_arn=self.stream_arn,
                region=self._region,
                shard_id=self._shard,
                role_arn=self._role,
            )
            for r in page.get("Records", [])
        ]
