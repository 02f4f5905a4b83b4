"""ParallelizationFactor: one shard's event source mapping as several lanes side by side.

ParallelizationFactor (1 to 10) is "the number of batches to process concurrently from each
shard", and records of one partition key are still processed in order
(https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html, "Polling and batching
streams"; https://aws.amazon.com/blogs/compute/new-aws-lambda-scaling-controls-for-kinesis-and-dynamodb-event-sources/;
DynamoDB streams alike, the item's key as the partition key). :class:`ShardMapping` keeps
``parallelization_factor`` :class:`~fanoutsim.aws.esm.StreamMapping` lanes, sends each
record to the lane its partition key hashes to, and offers their batches in turn: each
lane keeps its order, its retries and its one batch in flight. With a factor of 1 it is
exactly one :class:`StreamMapping`. Which lane a key lands in is fanoutsim's choice (AWS
does not say how it hashes); only that one key keeps one lane matters.

A stream of several shards (the seed's on-demand Kinesis stream starts with four) has a
poller a shard, each with its factor's batches in flight: ``shards`` times the factor
lanes, a record's lane among its own shard's (the shard is named in its ``eventID``).
"""

from __future__ import annotations

import itertools
import zlib
from collections.abc import Sequence

from fanoutsim.aws.esm import (
    Batch,
    Discard,
    InvokeResult,
    MappingConfig,
    Record,
    StreamMapping,
)
from fanoutsim.aws.stream_records import StreamRecord
from fanoutsim.errors import ConfigError, SimulatorError

__all__ = ["ShardMapping", "shard_index"]


def shard_index(record: Record, shards: int) -> int:
    """Which of ``shards`` shards ``record`` was read from: the number ending the shard id
    its ``eventID`` starts with (``shardId-000000000002:49...`` is shard 2); 0 for a
    stream of one shard or a record that names none."""
    if shards == 1:
        return 0
    shard, sep, _ = str(record.get("eventID", "")).partition(":")
    digits = shard.rpartition("-")[2]
    return int(digits) % shards if sep and digits.isdigit() else 0


class ShardMapping:
    """``parallelization_factor`` lanes for each of ``shards`` shards, with
    :class:`StreamMapping`'s interface (offer, next_batch, complete, counters...)."""

    def __init__(self, config: MappingConfig | None = None, shards: int = 1) -> None:
        self.config = config or MappingConfig()
        if shards < 1:
            raise ConfigError(f"a stream has at least one shard, not {shards}")
        self.shards = shards
        ids = itertools.count(1)  # one sequence, so a batch id names its lane
        self.lanes = tuple(
            StreamMapping(self.config, ids=ids)
            for _ in range(shards * self.config.parallelization_factor)
        )
        self._owner: dict[int, StreamMapping] = {}
        self._turn = 0

    def lane_of(self, record: Record) -> int:
        """The lane of ``record``'s partition key among its shard's (the same key, the
        same lane)."""
        factor = self.config.parallelization_factor
        key = StreamRecord(record).partition_key.encode()
        return shard_index(record, self.shards) * factor + zlib.crc32(key) % factor

    def offer(self, records: Sequence[Record], now: float) -> int:
        """Queue records read at ``now``, each in its key's lane; return how many passed
        the filter."""
        if len(self.lanes) == 1:
            return self.lanes[0].offer(records, now)
        by_lane: list[list[Record]] = [[] for _ in self.lanes]
        for record in records:
            by_lane[self.lane_of(record)].append(record)
        return sum(lane.offer(part, now) for lane, part in zip(self.lanes, by_lane, strict=True))

    def next_batch(self, now: float) -> Batch | None:
        """A batch of some lane with none in flight, lanes taken in turn; None if none."""
        count = len(self.lanes)
        for step in range(count):
            lane = self.lanes[(self._turn + step) % count]
            batch = lane.next_batch(now)
            if batch is not None:
                self._turn = (self._turn + step + 1) % count
                self._owner[batch.batch_id] = lane
                return batch
        return None

    def complete(self, batch: Batch, result: InvokeResult, now: float) -> list[Record]:
        """Apply a batch's outcome to its lane; return the records discarded."""
        lane = self._owner.pop(batch.batch_id, None)
        if lane is None:
            raise SimulatorError(f"batch {batch.batch_id} is not a batch in flight")
        return lane.complete(batch, result, now) + self.take_discarded()

    def next_deadline(self) -> float | None:
        """The earliest lane's :meth:`StreamMapping.next_deadline`."""
        deadlines = [d for lane in self.lanes if (d := lane.next_deadline()) is not None]
        return min(deadlines, default=None)

    @property
    def in_flight(self) -> int:
        """Batches being processed now (at most one a lane)."""
        return len(self._owner)

    @property
    def backlog(self) -> int:
        return sum(lane.backlog for lane in self.lanes)

    @property
    def idle(self) -> bool:
        return all(lane.idle for lane in self.lanes)

    def take_discarded(self) -> list[Record]:
        return [r for lane in self.lanes for r in lane.take_discarded()]

    def take_discards(self) -> list[Discard]:
        return [d for lane in self.lanes for d in lane.take_discards()]

    def take_filtered(self) -> list[Record]:
        return [r for lane in self.lanes for r in lane.take_filtered()]

    def counters(self) -> dict[str, int]:
        """Every lane's counters, summed."""
        total: dict[str, int] = {}
        for lane in self.lanes:
            for name, value in lane.counters().items():
                total[name] = total.get(name, 0) + value
        return total
