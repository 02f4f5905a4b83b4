"""The stream poller against a fake stream: batches, trace stamps, drops, and draining.

AWS: https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html (batches in order per
shard; FilterCriteria drop records before the function sees them).

AWS pages this module checks:

- https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html
"""

from __future__ import annotations

import asyncio
from typing import Any

from fanoutsim.aws.esm import MappingConfig, StreamMapping
from fanoutsim.feed import Dropped, Feed, Passed
from fanoutsim.runtime import poller as poller_module
from fanoutsim.runtime.delays import Delays
from fanoutsim.runtime.poller import StreamPoller
from fanoutsim.timing.profiles import load_profile
from tests.runtime.fakes import FakeStream, Recorder, run, runtime

BATCHES: list[list[str]] = []


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    BATCHES.append([r["dynamodb"]["Keys"]["flightId"]["S"] for r in event["Records"]])
    return {"batchItemFailures": []}


def _poller(stream: FakeStream, feed: Feed, **mapping: Any) -> StreamPoller:
    config = MappingConfig(
        batch_size=mapping.get("batch_size", 100),
        filter_patterns=mapping.get("filter_patterns", ()),
    )
    return StreamPoller(
        stream,
        "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/x",
        StreamMapping(config),
        runtime({"fanout": f"{__name__}:handler"}, feed),
        "fanout",
        feed,
        Delays(load_profile("instant")),
        region="us-east-1",
        poll_interval_s=0.0,
    )


def _drain_once(poller: StreamPoller) -> None:
    """Run the poller until it has handled every record in the stream, then stop it."""

    async def scenario() -> None:
        task = asyncio.ensure_future(poller.run())
        await poller.drained()
        poller.stop()
        await task

    run(scenario())


def test_records_reach_the_function_in_order_and_are_stamped() -> None:
    BATCHES.clear()
    stream, feed = FakeStream(), Feed()
    recorder = Recorder(feed)
    for i in range(5):
        stream.append(f"F{i}", trace=f"t{i}")
    poller = _poller(stream, feed, batch_size=2)

    async def scenario() -> None:
        task = asyncio.ensure_future(poller.run())
        await poller.drained()
        stream.append("F5", trace="t5")
        poller.wake()
        await poller.drained()
        poller.stop()
        await task

    run(scenario())
    assert BATCHES == [["F0", "F1"], ["F2", "F3"], ["F4"], ["F5"]]
    stamped = [t for e in recorder.of(Passed) if e.point == "stream_record" for t in e.trace_ids]
    assert stamped == [f"t{i}" for i in range(6)]
    assert len(poller.records_seen) == 6 and not poller.errors


def test_only_the_newest_records_are_kept_for_views(monkeypatch: Any) -> None:
    """Views read the newest records; older ones go, so a long run does not keep them all."""
    BATCHES.clear()
    monkeypatch.setattr(poller_module, "RECORDS_KEPT", 3)
    stream, feed = FakeStream(), Feed()
    for i in range(7):
        stream.append(f"F{i}", trace=f"t{i}")
    poller = _poller(stream, feed, batch_size=2)
    _drain_once(poller)
    assert [f for batch in BATCHES for f in batch] == [f"F{i}" for i in range(7)]  # all handled
    kept = [r["dynamodb"]["Keys"]["flightId"]["S"] for r in poller.records_seen]
    assert kept == ["F4", "F5", "F6"]


def test_filtered_records_are_reported_as_dropped_updates() -> None:
    BATCHES.clear()
    stream, feed = FakeStream(), Feed()
    recorder = Recorder(feed)
    stream.append("KEEP", trace="keep", event="MODIFY")
    stream.append("GONE", trace="gone", event="REMOVE")
    poller = _poller(stream, feed, filter_patterns=({"eventName": ["INSERT", "MODIFY"]},))
    _drain_once(poller)
    assert BATCHES == [["KEEP"]]
    [dropped] = recorder.of(Dropped)
    assert dropped.trace_ids == ("gone",) and "FilterCriteria" in dropped.reason


def test_drained_waits_for_a_poll_that_started_after_the_call() -> None:
    """A write made just before ``drained()`` is never missed (the old cross-thread idle
    flag could be read as set from a poll that began before the write)."""
    BATCHES.clear()
    stream, feed = FakeStream(), Feed()
    poller = _poller(stream, feed)

    async def scenario() -> int:
        task = asyncio.ensure_future(poller.run())
        await poller.drained()
        reads = stream.reads
        stream.append("LATE")  # no wake(): drained() itself must ask for a fresh poll
        await poller.drained()
        poller.stop()
        await task
        return stream.reads - reads

    assert run(scenario()) >= 1
    assert BATCHES == [["LATE"]]


def test_a_failing_read_is_recorded_and_polling_goes_on() -> None:
    stream, feed = FakeStream(), Feed()
    poller = _poller(stream, feed)
    failures = iter([RuntimeError("stream unavailable")])
    real_read = stream.get_records

    def flaky(**kwargs: Any) -> Any:
        error = next(failures, None)
        if error is not None:
            raise error
        return real_read(**kwargs)

    stream.get_records = flaky  # type: ignore[method-assign]

    async def scenario() -> None:
        task = asyncio.ensure_future(poller.run())
        await poller.drained()  # the failed poll does not count as drained
        poller.stop()
        await task

    run(scenario())
    assert list(poller.errors) == ["RuntimeError: stream unavailable"]
