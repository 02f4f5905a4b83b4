"""The functions' zip: exactly the handlers and the fanoutsim modules they import, and it
runs on what Lambda's Python runtime has (the standard library and boto3).

Each handler is imported from the zip in a fresh interpreter without site-packages, whose
only third-party code is boto3 and what boto3 itself needs, and replays the event the same
function received in a simulated run, against the simulator's AWS endpoint and management
API. Its answer must be the simulated one.

AWS page: https://docs.aws.amazon.com/lambda/latest/dg/python-package.html (a .zip of the
handler code; the runtime includes the AWS SDK for Python).
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from io import BytesIO
from pathlib import Path
from typing import Any

from fanoutsim import stack
from fanoutsim.deploy.package import build_package, module_closure
from fanoutsim.functions import flight_model
from fanoutsim.simulator import Simulator
from tests.deploy.runs import exercise_every_handler

#: What Lambda's Python runtime carries besides the standard library.
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six", "urllib3")

RUNNER = """
import json, os, sys
sys.path[:0] = [sys.argv[1], sys.argv[2]]
import importlib
cases = json.load(open(sys.argv[3]))
answers = {}
for name, (module, event) in cases.items():
    handler = importlib.import_module(module)
    assert handler.__file__.startswith(sys.argv[1]), handler.__file__
    answers[name] = handler.handler(event, None)
loaded = {m.split(".")[0] for m in sys.modules if not m.startswith("_")}
third_party = sorted(loaded - set(sys.stdlib_module_names))
print(json.dumps({"answers": answers, "third_party": third_party}))
"""


def test_zip_holds_the_handlers_and_what_they_import_only() -> None:
    package = build_package()
    with zipfile.ZipFile(BytesIO(package.data)) as archive:
        names = set(archive.namelist())
    assert names == set(package.files)
    assert "fanoutsim/functions/stream_fanout.py" in names
    assert "fanoutsim/errors.py" in names  # the handlers raise fanoutsim's errors
    for heavy in ("simulator.py", "builder.py", "moto/", "runtime/", "model/", "notebook/"):
        assert not any(heavy in n for n in names), heavy
    assert module_closure(["fanoutsim.functions.tokens"]) == [
        "fanoutsim",
        "fanoutsim.errors",
        "fanoutsim.functions",
        "fanoutsim.functions.tokens",
    ]


def test_zip_is_reproducible_and_named_by_its_content() -> None:
    first, second = build_package(), build_package()
    assert first.data == second.data
    assert first.key == second.key == f"fanoutsim/functions-{first.sha256[:16]}.zip"


def _runtime_dir(tmp_path: Path) -> Path:
    """A folder with only boto3 and its dependencies (links into this environment)."""
    folder = tmp_path / "runtime"
    folder.mkdir()
    for name in RUNTIME_PACKAGES:
        spec = __import__(name)
        source = Path(spec.__file__)
        target = source.parent if source.name == "__init__.py" else source
        (folder / target.name).symlink_to(target)
    return folder


def _simulated_events() -> tuple[dict[str, tuple[str, Any]], dict[str, Any], Simulator]:
    sim = Simulator(aws_endpoint=True, authorizer=True)
    exercise_every_handler(sim)
    cases: dict[str, tuple[str, Any]] = {}
    answers: dict[str, Any] = {}
    for invocation in sim.invocations():
        if invocation.function in cases or not invocation.ok:
            continue
        event = invocation.event
        if invocation.function == "flight_events" and (
            event.get("detail-type") != flight_model.STATUS_UPDATED
        ):
            continue  # a status update: replaying it changes nothing
        if invocation.function == "stream_fanout" and event["Records"][0]["eventName"] != "MODIFY":
            continue
        module = stack.FUNCTIONS[invocation.function].handler.split(":")[0]
        cases[invocation.function] = (module, invocation.event)
        answers[invocation.function] = invocation.result
    return cases, answers, sim


def test_each_handler_runs_from_the_zip_with_only_boto3(tmp_path: Path) -> None:
    zip_path = tmp_path / "functions.zip"
    zip_path.write_bytes(build_package().data)
    cases, simulated, sim = _simulated_events()
    try:
        (tmp_path / "cases.json").write_text(json.dumps(cases))
        key, secret = sim.options.credentials
        env = {
            "PATH": "/usr/bin:/bin",
            "AWS_ENDPOINT_URL": sim.endpoints["aws"],
            "AWS_ACCESS_KEY_ID": key,
            "AWS_SECRET_ACCESS_KEY": secret,
            "AWS_DEFAULT_REGION": stack.REGION,
            "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
            "CONNECTIONS_TABLE": stack.CONNECTIONS_TABLE,
            "SUBSCRIPTIONS_TABLE": stack.SUBSCRIPTIONS_TABLE,
            "FLIGHTS_TABLE": stack.FLIGHTS_TABLE,
            "WEBSOCKET_ENDPOINT": sim.endpoints["management"],
            "AUTH_SECRET": sim._c.options.auth_secret,
        }
        done = subprocess.run(
            [
                sys.executable,
                "-S",
                "-c",
                RUNNER,
                str(zip_path),
                str(_runtime_dir(tmp_path)),
                str(tmp_path / "cases.json"),
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        sim.close()
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(cases) == set(stack.FUNCTIONS)  # every function ran
    assert out["answers"] == json.loads(json.dumps(simulated, default=str))
    assert set(out["third_party"]) <= {*RUNTIME_PACKAGES, "fanoutsim"}
