"""A user's own function in the pipeline, in a process speaking the Lambda Runtime API: the
project's Python stream handler, and a Node.js handler written with the AWS SDK v3
(``examples/node-fanout``), each in place of ``stream_fanout``; a user's broken handler
reaches them as an error with its log lines and the pipeline stays up.

https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html,
https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

import fanoutsim
from fanoutsim import FunctionCode
from fanoutsim.errors import ConfigError
from fanoutsim.runtime.function_runtime import Invocation
from fanoutsim.simulator import Simulator
from tests.sample_ids import FS101

ROOT = Path(__file__).resolve().parent.parent
NODE_EXAMPLE = ROOT / "examples" / "node-fanout"


def require_node_example() -> None:
    """Skip on a laptop without Node.js or the example's packages; in CI, fail."""
    if shutil.which("node") and (NODE_EXAMPLE / "node_modules").is_dir():
        return
    if os.environ.get("CI"):
        pytest.fail("CI must provide node and examples/node-fanout/node_modules (make test)")
    pytest.skip("node or the example's packages are missing (make test installs them)")


def _deliver_a_day(sim: Simulator) -> None:
    sim.clients.add(4)
    sim.flights.load()
    sim.wait("delivered", timeout=60)
    sim.flights.publish("FS101", "DEPARTURE_DELAYED", "a late inbound aircraft")
    sim.wait("delivered", timeout=60)
    outcome = sim.report().deliveries
    assert outcome.expected == outcome.delivered == 4 * 7
    assert outcome.missing == outcome.undelivered == 0


def _fanout_invocations(sim: Simulator) -> list[Invocation]:
    return [i for i in sim.invocations() if i.function == "stream_fanout"]


def test_the_projects_python_handler_runs_as_a_process_and_delivers() -> None:
    code = FunctionCode(
        "python3.11", Path(fanoutsim.__file__).parent / "functions", "stream_fanout.handler"
    )
    with Simulator(functions={"stream_fanout": code}) as sim:
        _deliver_a_day(sim)
        sim.wait("idle", timeout=60)  # the environment is back in the pool
        earlier = len(_fanout_invocations(sim))
        sim.flights.publish("FS202", "BOARDING", "all groups")
        sim.wait("settled", timeout=60)  # delivered, and its invocation has ended
        runs = _fanout_invocations(sim)
    assert runs[0].cold and len(runs) > earlier and not runs[-1].cold
    assert all(i.ok for i in runs)
    assert runs[0].logs[0].startswith("START RequestId:")
    assert any(line.startswith("INIT_START Runtime Version: python3.11") for line in runs[0].logs)
    assert runs[0].logs[-1].startswith("REPORT RequestId:") and "Init Duration" in runs[0].logs[-1]


def test_a_node_sdk_v3_handler_runs_unchanged_and_delivers() -> None:
    require_node_example()
    code = FunctionCode("nodejs22.x", NODE_EXAMPLE, "index.handler")
    with Simulator(functions={"stream_fanout": code}) as sim:
        _deliver_a_day(sim)
        runs = _fanout_invocations(sim)
        calls = sim.report().to_dict()
    assert all(i.ok for i in runs)
    assert any(f"posted {FS101} to 4 connections" in line for i in runs for line in i.logs)
    # its Scan went through the AWS endpoint, which counted it as the pipeline's (the SDK's
    # application id names the function), not as an outside caller's
    assert calls["operations_by_function"]["stream_fanout"]["dynamodb:Scan"] >= 1
    assert "dynamodb:Scan" not in calls["outside_operations"]


def test_a_users_broken_handler_is_an_error_with_its_logs_and_the_pipeline_stays_up(
    tmp_path: Path,
) -> None:
    (tmp_path / "broken.py").write_text("def handler(event, context)\n    pass\n")
    code = FunctionCode("python3.12", tmp_path, "broken.handler")
    with Simulator(functions={"stream_fanout": code}) as sim:
        sim.clients.add(2)
        sim.flights.load()
        deadline = time.monotonic() + 60
        while not _fanout_invocations(sim) and time.monotonic() < deadline:
            time.sleep(0.05)
        runs = _fanout_invocations(sim)
        assert runs and all(not i.ok for i in runs)
        assert runs[0].error is not None and "Runtime.UserCodeSyntaxError" in runs[0].error
        assert any("ERROR Runtime.UserCodeSyntaxError" in line for line in runs[0].logs)
        # the rest of the pipeline still works: the flight is in the table
        assert any(row["flightId"] == FS101 for row in sim.flights.rows())
        sim.flights.publish("FS101", "BOARDING", "gate 12")  # and takes more updates
        assert sim.flights.rows()


def test_functions_must_name_the_stacks_functions_and_be_function_code(tmp_path: Path) -> None:
    code = FunctionCode("python3.12", tmp_path, "app.main")
    with pytest.raises(ConfigError, match="unknown functions nope"):
        Simulator(functions={"nope": code})
    with pytest.raises(ConfigError, match="must be a FunctionCode"):
        Simulator(functions={"stream_fanout": "index.handler"})
