"""One execution environment's Runtime API, driven by the test as a runtime would drive
it: the event and its headers on ``next``, the outcome on ``response`` or ``error``, the
documented refusals. https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html and,
for the 6 MB response limit, https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html"""

from __future__ import annotations

import json
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from fanoutsim.aws.runtime_api import MAX_RESPONSE_BYTES
from fanoutsim.runtime.environment_process import Environment, Job, Outcome
from fanoutsim.runtime.loop_thread import LoopThread

#: A "runtime" that does nothing: the test itself calls the API.
IDLE = [sys.executable, "-c", "import time; time.sleep(60)"]


@pytest.fixture
def env() -> Iterator[tuple[LoopThread, Environment, str]]:
    loop = LoopThread("test-env")
    environment = Environment(IDLE, {}, ".")
    loop.run(environment.start())
    api = environment.api_url
    try:
        yield loop, environment, api
    finally:
        loop.run(environment.close())
        loop.stop()


def _call(url: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> Any:
    request = urllib.request.Request(url, data=body, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def _invoke(loop: LoopThread, environment: Environment, timeout: float = 5.0) -> Any:
    """Start an invocation on the loop; the returned holder gets its outcome."""
    holder: dict[str, Outcome | None] = {}
    job = Job("req-1", b'{"hello": 1}', int(time.time() * 1000) + 3000, "arn:aws:fn", "Root=1-t")

    def run() -> None:
        holder["outcome"] = loop.run(environment.invoke(job, timeout), timeout + 5)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, holder


def test_next_carries_the_event_and_its_headers(env: tuple[LoopThread, Environment, str]) -> None:
    loop, environment, api = env
    thread, holder = _invoke(loop, environment)
    status, headers, body = _call(f"{api}/invocation/next")
    assert status == 200 and json.loads(body) == {"hello": 1}
    assert headers["Lambda-Runtime-Aws-Request-Id"] == "req-1"
    assert headers["Lambda-Runtime-Invoked-Function-Arn"] == "arn:aws:fn"
    assert headers["Lambda-Runtime-Trace-Id"] == "Root=1-t"
    assert int(headers["Lambda-Runtime-Deadline-Ms"]) > time.time() * 1000
    status, _, _ = _call(f"{api}/invocation/req-1/response", b'{"ok": true}')
    assert status == 202
    thread.join(10)
    assert holder["outcome"] == Outcome({"ok": True})


def test_an_error_is_the_invocations_and_bad_calls_are_refused(
    env: tuple[LoopThread, Environment, str],
) -> None:
    loop, environment, api = env
    thread, holder = _invoke(loop, environment)
    _call(f"{api}/invocation/next")
    status, _, body = _call(f"{api}/invocation/other-id/response", b"{}")
    assert status == 400 and json.loads(body)["errorType"] == "InvalidRequestID"
    status, _, _ = _call(f"{api}/nowhere", b"{}")
    assert status == 404
    error = {"errorMessage": "no", "errorType": "KeyError", "stackTrace": ["line 1"]}
    status, _, _ = _call(f"{api}/invocation/req-1/error", json.dumps(error).encode())
    assert status == 202
    thread.join(10)
    outcome = holder["outcome"]
    assert outcome is not None and outcome.error == "KeyError: no"
    assert outcome.stack == ["line 1"]


def test_a_response_over_6_mb_is_refused_with_413(env: tuple[LoopThread, Environment, str]) -> None:
    loop, environment, api = env
    thread, holder = _invoke(loop, environment)
    _call(f"{api}/invocation/next")
    big = b'"' + b"x" * MAX_RESPONSE_BYTES + b'"'
    status, _, _ = _call(f"{api}/invocation/req-1/response", big)
    assert status == 413
    thread.join(10)
    assert holder["outcome"].error_type == "Function.ResponseSizeTooLarge"


def test_an_init_error_ends_init_with_that_error(env: tuple[LoopThread, Environment, str]) -> None:
    loop, environment, api = env
    error = {"errorMessage": "No module named 'x'", "errorType": "Runtime.ImportModuleError"}
    _call(f"{api}/init/error", json.dumps(error).encode())
    outcome = loop.run(environment.ready(5))
    assert outcome is not None and outcome.error_type == "Runtime.ImportModuleError"


def test_the_deadline_kills_the_environment(env: tuple[LoopThread, Environment, str]) -> None:
    loop, environment, api = env
    thread, holder = _invoke(loop, environment, timeout=0.3)
    _call(f"{api}/invocation/next")  # taken, never answered
    thread.join(10)
    assert holder["outcome"] is None
    deadline = time.monotonic() + 10
    while environment.alive and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not environment.alive
