"""AWS pages this module checks:

- https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html
- https://docs.aws.amazon.com/lambda/latest/dg/python-context.html
- https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
- https://aws.amazon.com/lambda/pricing/ (INIT billed since 2025-08-01)
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from fanoutsim.aws.lambda_functions import FunctionSpec
from fanoutsim.aws.metering import Meter
from fanoutsim.errors import ConfigError
from fanoutsim.feed import Changed, Feed, Passed
from fanoutsim.runtime.delays import Delays
from fanoutsim.runtime.function_runtime import FunctionRuntime, current_invocation
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


RELEASE = threading.Event()
FINISHED = threading.Event()


def stuck(event: dict[str, Any], context: Any) -> str:
    """Runs until the test releases it (well past a 1 s timeout)."""
    RELEASE.wait(30)
    FINISHED.set()
    return "too late"


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
        "stuck": FunctionSpec("stuck", f"{__name__}:stuck", timeout_s=1),
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


@pytest.mark.parametrize(
    "kwargs", [{"memory_mb": 127}, {"memory_mb": 10_241}, {"timeout_s": 0.5}, {"timeout_s": 901}]
)
def test_memory_and_timeout_outside_lambdas_limits_are_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        FunctionSpec("f", f"{__name__}:echo", **kwargs)


def test_an_invocation_is_cut_off_at_its_timeout_and_its_environment_discarded() -> None:
    meter = Meter()
    runtime = _runtime(meter)
    RELEASE.clear()
    FINISHED.clear()
    cut = runtime.invoke("stuck", {})
    assert not FINISHED.is_set()  # returned while the handler still ran
    assert cut.timed_out and cut.result is None
    assert cut.error == "Task timed out after 1.00 seconds"
    assert meter.snapshot(0)["invocations"]["stuck"]["billed_ms"] == 1000
    RELEASE.set()
    assert FINISHED.wait(10)
    assert cut.result is None and cut.error.startswith("Task timed out")  # nothing late lands
    assert runtime.invoke("stuck", {}).cold  # a timed-out environment is not reused
    runtime.close()


def test_a_cold_start_bills_its_init_phase() -> None:
    meter = Meter()
    meter.invocation("f", 10.0, 1024, cold=True, error=False, init_ms=250.0)
    meter.invocation("f", 10.0, 1024, cold=False, error=False)
    use = meter.snapshot(0)["invocations"]["f"]
    assert (use["billed_ms"], use["init_ms"]) == (260 + 10, 250.0)


def talk(event: dict[str, Any], context: Any) -> str:
    print("inside the handler")
    return "ok"


def test_what_a_handler_prints_goes_to_its_invocations_log(
    capsys: pytest.CaptureFixture[str],
) -> None:
    specs = {"talk": FunctionSpec("talk", f"{__name__}:talk")}
    runtime = FunctionRuntime(
        specs,
        Meter(),
        Delays(load_profile("instant")),
        Feed(),
        region="us-east-1",
        account="123456789012",
    )
    invocation = runtime.invoke("talk", {})
    print("outside")
    runtime.close()
    assert invocation.logs == ["inside the handler", "\n"]
    assert capsys.readouterr().out == "outside\n"
