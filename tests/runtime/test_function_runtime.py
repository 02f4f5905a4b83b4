"""AWS pages this module checks:

- https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html
- https://docs.aws.amazon.com/lambda/latest/dg/python-context.html
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from fanoutsim.aws.metering import Meter
from fanoutsim.errors import ConfigError
from fanoutsim.feed import Changed, Feed, Passed
from fanoutsim.runtime.delays import Delays
from fanoutsim.runtime.function_runtime import FunctionRuntime, FunctionSpec, current_invocation
from fanoutsim.timing.profiles import load_profile


def echo(event: dict[str, Any], context: Any) -> dict[str, Any]:
    assert current_invocation.get() is not None
    return {
        "name": context.function_name,
        "left": context.get_remaining_time_in_millis(),
        "event": event,
    }


def fail(event: dict[str, Any], context: Any) -> None:
    raise RuntimeError("nope")


def _runtime(meter: Meter, feed: Feed | None = None) -> FunctionRuntime:
    specs = {
        "echo": FunctionSpec(
            "echo",
            f"{__name__}:echo",
            memory_mb=256,
            timeout_s=3,
            start_point="handler_start",
            end_point="handler_end",
        ),
        "fail": FunctionSpec("fail", f"{__name__}:fail"),
    }
    delays = Delays(load_profile("instant"))
    return FunctionRuntime(
        specs, meter, delays, feed or Feed(), region="us-east-1", account="123456789012"
    )


def test_invocations_report_their_points_and_themselves_on_the_feed() -> None:
    feed, seen = Feed(), []
    feed.subscribe(seen.append)
    runtime = _runtime(Meter(), feed)
    invocation = runtime.invoke("echo", {}, ("t1", "t2"))
    runtime.invoke("fail", {}, ("t3",))  # no points declared: only the invocation itself
    runtime.close()
    passed = [(e.point, e.trace_ids) for e in seen if isinstance(e, Passed)]
    assert passed == [("handler_start", ("t1", "t2")), ("handler_end", ("t1", "t2"))]
    changes = [e.subject for e in seen if isinstance(e, Changed)]
    assert [c.function for c in changes] == ["echo", "fail"] and changes[0] is invocation


def test_first_invocation_is_cold_then_warm_and_metered() -> None:
    meter = Meter()
    runtime = _runtime(meter)
    first = runtime.invoke("echo", {"x": 1})
    second = runtime.invoke("echo", {"x": 2})
    assert (first.cold, second.cold) == (True, False)
    assert second.result["name"] == "echo" and 0 < second.result["left"] <= 3000
    use = meter.snapshot(0)["invocations"]["echo"]
    assert (use["count"], use["cold"], use["errors"]) == (2, 1, 0)
    assert use["gb_seconds"] == pytest.approx(use["billed_ms"] / 1000 * 256 / 1024)
    runtime.close()


def test_concurrent_invocations_need_more_environments() -> None:
    runtime = _runtime(Meter())

    async def both() -> list[bool]:
        results = await asyncio.gather(*(runtime.invoke_async("echo", {}) for _ in range(4)))
        return [r.cold for r in results]

    assert any(asyncio.run(both()))
    runtime.close()


def test_errors_are_recorded_not_raised() -> None:
    meter = Meter()
    runtime = _runtime(meter)
    invocation = runtime.invoke("fail", {})
    assert not invocation.ok and invocation.error == "RuntimeError: nope"
    assert "Traceback" in invocation.attributes["traceback"]
    assert meter.snapshot(0)["invocations"]["fail"]["errors"] == 1
    runtime.close()


def test_unknown_function_and_bad_handler_path_are_config_errors() -> None:
    runtime = _runtime(Meter())
    with pytest.raises(ConfigError, match="no function named"):
        runtime.invoke("ghost", {})
    with pytest.raises(ConfigError, match="cannot load handler"):
        FunctionSpec("x", "fanoutsim.nowhere:handler").load()
    runtime.close()
