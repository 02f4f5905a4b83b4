"""Reading the seed's change feed: every shard of a Kinesis data stream, in Lambda's shape.

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
    """Every shard of the stream, each from its oldest record (``TRIM_HORIZON``): records
    of one shard in their order, the shard named in each record's ``eventID`` (the
    mapping keeps a shard's lanes apart, :class:`~fanoutsim.aws.esm_lanes.ShardMapping`)."""

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
        self._iterators: dict[str, str] | None = None  # shard id -> next iterator
        account = stream_arn.split(":")[4]
        self._role = f"arn:aws:iam::{account}:role/fanoutsim-stream-fanout"

    def read(self) -> list[dict[str, Any]]:
        """The records since the last read (at most 1,000 a shard), in Lambda's shape."""
        if self._iterators is None:
            shards = self._kinesis.describe_stream(StreamName=self._name)["StreamDescription"]
            self._iterators = {
                shard["ShardId"]: self._kinesis.get_shard_iterator(
                    StreamName=self._name,
                    ShardId=shard["ShardId"],
                    ShardIteratorType="TRIM_HORIZON",
                )["ShardIterator"]
                for shard in shards["Shards"]
            }
        out: list[dict[str, Any]] = []
        for shard, iterator in self._iterators.items():
            page = self._kinesis.get_records(ShardIterator=iterator, Limit=1000)
            self._iterators[shard] = page["NextShardIterator"]
            for record in page.get("Records", []):
                self._on_read(len(record["Data"]))
                out.append(
                    kinesis_records.to_lambda_record(
                        record,
                        stream_arn=self.stream_arn,
                        region=self._region,
                        shard_id=shard,
                        role_arn=self._role,
                    )
                )
        return out
