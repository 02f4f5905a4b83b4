"""EventBridge delivery: asynchronous, with Lambda's two retries, counted on the loop.

AWS: https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html
(an asynchronous invocation that fails is retried twice, then discarded or sent on).
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import threading
import time
from typing import Any

from fanoutsim.feed import Dropped, Feed
from fanoutsim.runtime.delays import Delays
from fanoutsim.runtime.event_bus import ASYNC_RETRIES, EventBusDispatcher
from fanoutsim.stages import TRACE_FIELD
from fanoutsim.timing.profiles import AWS_ASYNC_RETRY_DELAYS_MS, TimingProfile, load_profile
from tests.runtime.fakes import Recorder, run, runtime

ATTEMPTS: dict[str, int] = {}
STARTS: list[float] = []


def flaky(event: dict[str, Any], context: Any) -> str:
    """Fails as many times as the event's ``fail`` says."""
    key = event["detail"]["id"]
    STARTS.append(time.monotonic())
    ATTEMPTS[key] = ATTEMPTS.get(key, 0) + 1
    if ATTEMPTS[key] <= event["detail"]["fail"]:
        raise RuntimeError(f"attempt {ATTEMPTS[key]} failed")
    return "ok"


def _event(key: str, fail: int) -> dict[str, Any]:
    return {"detail-type": "x", "detail": {"id": key, "fail": fail, TRACE_FIELD: f"trace-{key}"}}


def _deliver(
    events: list[dict[str, Any]], submitters: int = 1, profile: TimingProfile | None = None
) -> tuple[EventBusDispatcher, Recorder]:
    ATTEMPTS.clear()
    STARTS.clear()
    feed = Feed()
    recorder = Recorder(feed)
    functions = runtime({"target": f"{__name__}:flaky"}, feed)

    async def scenario() -> EventBusDispatcher:
        bus = EventBusDispatcher(
            functions, Delays(profile or load_profile("instant")), feed, asyncio.get_running_loop()
        )
        # moto calls submit on the producer's thread: do the same, from several at once
        threads = [
            threading.Thread(target=lambda part=part: [bus.submit("target", e) for e in part])
            for part in (events[i::submitters] for i in range(submitters))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            await asyncio.to_thread(thread.join)
        await asyncio.sleep(0)  # let the scheduled submissions start
        await bus.drained()
        return bus

    bus = run(scenario())
    functions.close()
    return bus, recorder


def test_a_failing_event_is_retried_twice_then_dropped_with_its_reason() -> None:
    bus, recorder = _deliver([_event("ok-after-2", 2), _event("never", 99)])
    assert ATTEMPTS == {"ok-after-2": 3, "never": 1 + ASYNC_RETRIES}
    assert (bus.delivered, bus.failed_attempts) == (1, 2 + 3)
    [dropped] = recorder.of(Dropped)
    assert dropped.trace_ids == ("trace-never",)
    assert dropped.reason == "target failed after retries: RuntimeError: attempt 3 failed"


def test_events_submitted_from_many_threads_are_all_delivered_and_counted() -> None:
    events = [_event(f"e{i}", 0) for i in range(200)]
    bus, _ = _deliver(events, submitters=8)
    assert bus.delivered == 200 and bus.pending == 0
    assert len(ATTEMPTS) == 200


def test_retries_wait_the_profiles_delays_and_the_aws_profile_waits_minutes() -> None:
    assert load_profile("aws").async_retry_delays_ms == AWS_ASYNC_RETRY_DELAYS_MS == (60e3, 120e3)
    assert load_profile("instant").async_retry_delays_ms == (60.0, 120.0)  # scaled 1/1000
    waits = (200.0, 400.0)
    profile = dataclasses.replace(load_profile("instant"), async_retry_delays_ms=waits)
    _deliver([_event("never", 99)], profile=profile)
    gaps = [(b - a) * 1000 for a, b in itertools.pairwise(STARTS)]
    assert len(gaps) == 2 and gaps[0] >= waits[0] and gaps[1] >= waits[1]
