"""The stream poller: reads the flights table's stream from moto and drives the event source
mapping state machine (:mod:`fanoutsim.aws.esm`), invoking the stream handler per batch.

Under a profile with a poll interval (``aws``: 4 polls a second) it sleeps between polls;
under ``instant`` it sleeps until a table write wakes it, so local latency is the pipeline's
own cost and an idle simulator uses no CPU.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any

from fanoutsim.aws.esm import Batch, StreamMapping
from fanoutsim.aws.stream_records import KeyOnlyInsertFilter, to_lambda_record
from fanoutsim.functions.flight_model import TRACE_FIELD
from fanoutsim.runtime.delays import Delays
from fanoutsim.runtime.function_runtime import FunctionRuntime, Invocation
from fanoutsim.tracing import Tracer

IDLE_RECHECK_S = 0.5


def trace_ids(records: list[dict[str, Any]] | tuple[dict[str, Any], ...]) -> tuple[str, ...]:
    """Trace ids carried by stream records' NewImage (written by flight_events)."""
    ids = []
    for record in records:
        value = record.get("dynamodb", {}).get("NewImage", {}).get(TRACE_FIELD, {}).get("S")
        if value:
            ids.append(value)
    return tuple(ids)


class StreamPoller:
    """One shard's poller. ``run()`` until ``stop()``; ``wake()`` from any thread."""

    def __init__(
        self,
        streams: Any,
        stream_arn: str,
        mapping: StreamMapping,
        runtime: FunctionRuntime,
        function: str,
        tracer: Tracer,
        delays: Delays,
        *,
        region: str,
        poll_interval_s: float,
    ) -> None:
        self.streams = streams
        self.stream_arn = stream_arn
        self.mapping = mapping
        self.runtime = runtime
        self.function = function
        self.tracer = tracer
        self.delays = delays
        self.region = region
        self.poll_interval_s = poll_interval_s
        self.records_seen: list[dict[str, Any]] = []
        self.discarded: list[dict[str, Any]] = []
        self.errors: list[str] = []
        self.on_discard: list[Callable[[list[dict[str, Any]]], None]] = []
        self.on_filtered: list[Callable[[list[dict[str, Any]]], None]] = []
        self.on_batch: list[Callable[[Batch, Invocation], None]] = []
        self._iterator: str | None = None
        self._filter = KeyOnlyInsertFilter()
        self._wakeup = asyncio.Event()
        self._stopping = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self.idle = asyncio.Event()

    def wake(self) -> None:
        """Ask for a poll now (thread-safe)."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._wakeup.set)

    def stop(self) -> None:
        self._stopping = True
        self.wake()

    def _read(self) -> list[dict[str, Any]]:
        if self._iterator is None:
            shard = self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"][
                "Shards"
            ][0]["ShardId"]
            self._iterator = self.streams.get_shard_iterator(
                StreamArn=self.stream_arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
        page = self.streams.get_records(ShardIterator=self._iterator, Limit=1000)
        self._iterator = page["NextShardIterator"]
        raw: list[dict[str, Any]] = page.get("Records", [])
        return raw

    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        while not self._stopping:
            self._wakeup.clear()
            try:
                raw = await self._poll_once()
            except Exception as error:  # keep polling; show the error in the report
                self.errors.append(f"{type(error).__name__}: {error}")
                raw = []
            if not raw:
                await self._sleep()

    async def _poll_once(self) -> list[dict[str, Any]]:
        assert self._loop is not None
        raw = await self._loop.run_in_executor(None, self._read)
        now = time.perf_counter()
        records = self._filter.feed(
            [to_lambda_record(r, stream_arn=self.stream_arn, region=self.region) for r in raw]
        )
        if records:
            self.records_seen.extend(records)
            for trace_id in trace_ids(records):
                self.tracer.stamp(trace_id, "stream_record", now)
            self.mapping.offer(records, now)
            dropped = self.mapping.take_filtered()
            if dropped:
                for filtered_callback in self.on_filtered:
                    filtered_callback(dropped)
        while (batch := self.mapping.next_batch(time.perf_counter())) is not None:
            await self._invoke(batch)
        if not raw and self.mapping.idle:
            self.idle.set()
        else:
            self.idle.clear()
        return raw

    async def _invoke(self, batch: Batch) -> None:
        await self.delays.asleep("stream_to_function")
        invocation = await self.runtime.invoke_async(
            self.function, batch.event(), trace_ids(batch.records)
        )
        outcome: Any = (
            RuntimeError(invocation.error) if invocation.error is not None else invocation.result
        )
        discarded = self.mapping.complete(batch, outcome, time.perf_counter())
        self.discarded.extend(discarded)
        if discarded:
            for discard_callback in self.on_discard:
                discard_callback(discarded)
        for callback in self.on_batch:
            callback(batch, invocation)

    async def _sleep(self) -> None:
        if self.poll_interval_s > 0:
            await asyncio.sleep(self.poll_interval_s)
            return
        deadline = self.mapping.next_deadline()
        timeout = IDLE_RECHECK_S if deadline is None else max(0.0, deadline - time.perf_counter())
        if timeout > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), timeout)
