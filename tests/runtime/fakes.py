"""Small fakes for driving runtime components without a simulator."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from datetime import UTC, datetime
from typing import Any, TypeVar

from fanoutsim.aws.lambda_functions import FunctionSpec
from fanoutsim.aws.metering import Meter
from fanoutsim.feed import Feed, PipelineEvent
from fanoutsim.runtime.delays import Delays
from fanoutsim.runtime.function_runtime import FunctionRuntime
from fanoutsim.stages import TRACE_FIELD
from fanoutsim.timing.profiles import load_profile

T = TypeVar("T")


class FakeStream:
    """A one-shard DynamoDB stream: ``append`` records, read them with boto3's call shapes."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []
        self.reads = 0
        self._lock = threading.Lock()

    def append(self, flight: str, trace: str | None = None, event: str = "MODIFY") -> None:
        image: dict[str, Any] = {"flightId": {"S": flight}, "event": {"S": "BOARDING"}}
        if trace is not None:
            image[TRACE_FIELD] = {"S": trace}
        with self._lock:
            sequence = 100 + len(self.records)
            self.records.append(
                {
                    "eventID": f"e{sequence}",
                    "eventName": event,
                    "dynamodb": {
                        "ApproximateCreationDateTime": datetime.now(UTC),
                        "Keys": {"flightId": {"S": flight}},
                        "NewImage": image,
                        "SequenceNumber": str(sequence),
                        "SizeBytes": 50,
                        "StreamViewType": "NEW_IMAGE",
                    },
                }
            )

    def describe_stream(self, **_: Any) -> Any:
        return {"StreamDescription": {"Shards": [{"ShardId": "shard-0"}]}}

    def get_shard_iterator(self, **_: Any) -> Any:
        return {"ShardIterator": "0"}

    def get_records(self, *, ShardIterator: str, Limit: int) -> Any:
        start = int(ShardIterator)
        with self._lock:
            self.reads += 1
            page = self.records[start : start + Limit]
        return {"Records": page, "NextShardIterator": str(start + len(page))}


class Recorder:
    """A feed subscriber that keeps every event."""

    def __init__(self, feed: Feed) -> None:
        self.events: list[PipelineEvent] = []
        feed.subscribe(self.events.append)

    def of(self, kind: type[T]) -> list[T]:
        return [e for e in self.events if isinstance(e, kind)]


def runtime(handlers: dict[str, str], feed: Feed, meter: Meter | None = None) -> FunctionRuntime:
    """A function runtime for handler paths ``module:function`` under the instant profile."""
    specs = {name: FunctionSpec(name, path) for name, path in handlers.items()}
    delays = Delays(load_profile("instant"))
    return FunctionRuntime(
        specs, meter or Meter(), delays, feed, region="us-east-1", account="123456789012"
    )


def run(coro: Coroutine[Any, Any, T], timeout: float = 10.0) -> T:
    async def bounded() -> T:
        return await asyncio.wait_for(coro, timeout)

    return asyncio.run(bounded())
