"""The stream poller: reads the flights table's stream from moto and drives the event source
mapping state machine (:mod:`fanoutsim.aws.esm_lanes`), invoking the stream handler per
batch, the lanes of a ParallelizationFactor side by side.

Under a profile with a poll interval (``aws``: 4 polls a second) it sleeps between polls;
under ``instant`` it sleeps until :meth:`StreamPoller.wake` (called when a record is
appended to the stream), so local latency is the pipeline's own cost and an idle
simulator uses no CPU. :meth:`StreamPoller.drained` waits, on the loop, for a poll that
started after the call and found the stream empty and the mapping idle.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from fanoutsim import tracing
from fanoutsim.aws.esm import Batch
from fanoutsim.aws.esm_destination import failure_record
from fanoutsim.aws.esm_lanes import ShardMapping
from fanoutsim.aws.stream_records import KeyOnlyInsertFilter, to_lambda_record
from fanoutsim.feed import Feed
from fanoutsim.runtime.delays import Delays
from fanoutsim.runtime.function_runtime import FunctionRuntime

__all__ = ["IDLE_RECHECK_S", "RECORDS_KEPT", "RecordSource", "StreamPoller", "StreamsClient"]

IDLE_RECHECK_S = 0.5
#: The most recent records kept for views (older ones are dropped). Views show 20 and the
#: notebooks read a few dozen. A parsed record is about 5-7 KB, so a bound of thousands is
#: megabytes that fill for an hour or more at an update a second: a steady RSS rise through
#: a long soak. 100 fill in under two minutes at that rate.
RECORDS_KEPT = 100


class RecordSource(Protocol):
    """Where records come from when they are not the table's DynamoDB stream (the seed's
    Kinesis stream: :class:`~fanoutsim.runtime.kinesis_source.KinesisSource`)."""

    stream_arn: str

    def read(self) -> list[dict[str, Any]]: ...


class StreamsClient(Protocol):
    """The three DynamoDB Streams calls the poller makes (a boto3 client has them)."""

    def describe_stream(self, **kwargs: Any) -> Any: ...

    def get_shard_iterator(self, **kwargs: Any) -> Any: ...

    def get_records(self, **kwargs: Any) -> Any: ...


class StreamPoller:
    """One shard's poller. ``run()`` until ``stop()``; ``wake()`` from any thread."""

    def __init__(
        self,
        streams: StreamsClient,
        stream_arn: str,
        mapping: ShardMapping,
        runtime: FunctionRuntime,
        function: str,
        feed: Feed,
        delays: Delays,
        *,
        region: str,
        poll_interval_s: float,
        source: RecordSource | None = None,
        on_failure: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.streams = streams
        self.stream_arn = stream_arn
        self.mapping = mapping
        self.runtime = runtime
        self.function = function
        self.feed = feed
        self.delays = delays
        self.region = region
        self.poll_interval_s = poll_interval_s
        #: Records in Lambda's shape from another source (None: the DynamoDB stream).
        self.source = source
        self.records_seen: deque[dict[str, Any]] = deque(maxlen=RECORDS_KEPT)
        #: The on-failure records of discarded batches (what a destination received).
        self.failure_records: deque[dict[str, Any]] = deque(maxlen=RECORDS_KEPT)
        #: Sends an on-failure record to the mapping's destination (None: none is set).
        self.on_failure = on_failure
        self.shard_id = ""
        self.discarded = 0
        self.errors: deque[str] = deque(maxlen=100)
        self._iterator: str | None = None
        self._filter = KeyOnlyInsertFilter()
        self._wakeup = asyncio.Event()
        self._stopping = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._drain_waiters: list[asyncio.Future[None]] = []
        self._running: set[asyncio.Task[None]] = set()

    def wake(self) -> None:
        """Ask for a poll now (thread-safe)."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._wakeup.set)

    def stop(self) -> None:
        """Stop after the current poll (thread-safe)."""
        self._stopping = True
        self.wake()

    async def drained(self) -> None:
        """Return after a poll that started after this call read nothing and left the
        mapping idle (call on the loop). Under ``instant`` it asks for that poll now."""
        waiter = asyncio.get_running_loop().create_future()
        self._drain_waiters.append(waiter)
        self._wakeup.set()
        await waiter

    def _read(self) -> list[dict[str, Any]]:
        if self.source is not None:
            return self.source.read()
        if self._iterator is None:
            shard = self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"][
                "Shards"
            ][0]["ShardId"]
            self.shard_id = shard
            self._iterator = self.streams.get_shard_iterator(
                StreamArn=self.stream_arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
        page = self.streams.get_records(ShardIterator=self._iterator, Limit=1000)
        self._iterator = page["NextShardIterator"]
        raw: list[dict[str, Any]] = page.get("Records", [])
        return raw

    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        try:
            while not self._stopping:
                self._wakeup.clear()
                waiters, self._drain_waiters = self._drain_waiters, []
                clean = False
                try:
                    raw = await self._poll_once()
                    clean = not raw and self.mapping.idle
                except Exception as error:  # keep polling; show the error in the report
                    self.errors.append(f"{type(error).__name__}: {error}")
                    raw = []
                if clean:
                    for waiter in waiters:
                        if not waiter.done():
                            waiter.set_result(None)
                else:
                    self._drain_waiters = waiters + self._drain_waiters
                if not raw:
                    await self._sleep()
        finally:
            await asyncio.gather(*self._running, return_exceptions=True)
            for waiter in self._drain_waiters:
                waiter.cancel()

    async def _poll_once(self) -> list[dict[str, Any]]:
        assert self._loop is not None
        raw = await self._loop.run_in_executor(None, self._read)
        now = time.perf_counter()
        shaped = (
            raw
            if self.source is not None
            else [to_lambda_record(r, stream_arn=self.stream_arn, region=self.region) for r in raw]
        )
        records = self._filter.feed(shaped)
        if records:
            self.records_seen.extend(records)
            self.feed.passed("stream_record", tracing.from_records(records), now)
            self.mapping.offer(records, now)
            self.feed.dropped(
                tracing.from_records(self.mapping.take_filtered()),
                "filtered out by the event source mapping's FilterCriteria",
            )
        self._dispatch()
        return raw

    def _dispatch(self) -> None:
        """Start every ready batch (on the loop): the mapping's lanes (ParallelizationFactor)
        run side by side, each in order, a lane's next batch as soon as its last ends; the
        stream is read on meanwhile, as Lambda polls while a batch runs."""
        while (batch := self.mapping.next_batch(time.perf_counter())) is not None:
            task = asyncio.create_task(self._invoke(batch))
            self._running.add(task)
            task.add_done_callback(self._ended)

    def _ended(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            self.errors.append(f"{type(error).__name__}: {error}")
        if not self._stopping:
            self._dispatch()
        self._wakeup.set()  # a drain may be complete now

    async def _invoke(self, batch: Batch) -> None:
        await self.delays.asleep("stream_to_function")
        invocation = await self.runtime.invoke_async(
            self.function, batch.event(), tracing.from_records(batch.records)
        )
        outcome: Any = (
            RuntimeError(invocation.error) if invocation.error is not None else invocation.result
        )
        discarded = self.mapping.complete(batch, outcome, time.perf_counter())
        self.discarded += len(discarded)
        retries = self.mapping.config.maximum_retry_attempts
        self.feed.dropped(
            tracing.from_records(discarded),
            f"discarded by the event source mapping after {retries} retries",
        )
        await self._report_discards()

    async def _report_discards(self) -> None:
        """Each discarded batch's on-failure record, kept and sent to the destination."""
        for discard in self.mapping.take_discards():
            record = failure_record(
                discard,
                function_arn=self.runtime.arn(self.function),
                shard_id=self.shard_id,
                now=datetime.now(UTC),
            )
            self.failure_records.append(record)
            if self.on_failure is not None:
                try:
                    await asyncio.to_thread(self.on_failure, record)
                except Exception as error:  # the destination refused: say so, go on
                    self.errors.append(f"on-failure destination: {type(error).__name__}: {error}")

    async def _sleep(self) -> None:
        if self.poll_interval_s > 0:
            await asyncio.sleep(self.poll_interval_s)
            return
        deadline = self.mapping.next_deadline()
        timeout = IDLE_RECHECK_S if deadline is None else max(0.0, deadline - time.perf_counter())
        if timeout > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), timeout)
