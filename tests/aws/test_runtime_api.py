"""The Lambda Runtime API's paths, headers and error bodies, as documented:
https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html"""

from __future__ import annotations

import json

from fanoutsim.aws import runtime_api
from fanoutsim.aws.runtime_api import Call, parse_call


def test_the_four_calls_and_nothing_else() -> None:
    base = "/2018-06-01/runtime"
    assert parse_call("GET", f"{base}/invocation/next") == Call("next")
    assert parse_call("POST", f"{base}/invocation/abc-1/response") == Call("response", "abc-1")
    assert parse_call("POST", f"{base}/invocation/abc-1/error") == Call("error", "abc-1")
    assert parse_call("POST", f"{base}/init/error") == Call("init-error")
    assert parse_call("POST", f"{base}/invocation/next") is None
    assert parse_call("GET", f"{base}/invocation/abc-1/response") is None
    assert parse_call("GET", "/2019-01-01/runtime/invocation/next") is None
    assert parse_call("POST", f"{base}/invocation/../response") is None


def test_next_answers_with_the_documented_headers() -> None:
    headers = runtime_api.invocation_headers("rid", 1_700_000_000_000, "arn:x", "Root=1-a")
    assert headers["Lambda-Runtime-Aws-Request-Id"] == "rid"
    assert headers["Lambda-Runtime-Deadline-Ms"] == "1700000000000"
    assert headers["Lambda-Runtime-Invoked-Function-Arn"] == "arn:x"
    assert headers["Lambda-Runtime-Trace-Id"] == "Root=1-a"


def test_a_posted_error_is_read_from_its_body_or_its_header() -> None:
    body = json.dumps({"errorMessage": "boom", "errorType": "ValueError", "stackTrace": ["a"]})
    assert runtime_api.read_error(body.encode(), {}) == ("ValueError", "boom", ["a"])
    header = {"lambda-runtime-function-error-type": "Runtime.HandlerNotFound"}
    assert runtime_api.read_error(b"{}", header)[0] == "Runtime.HandlerNotFound"
    assert runtime_api.read_error(b"not json", {}) == ("Unhandled", "not json", [])
    assert json.loads(runtime_api.error_body("m", "T")) == {"errorMessage": "m", "errorType": "T"}
