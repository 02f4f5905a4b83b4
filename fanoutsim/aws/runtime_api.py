"""The Lambda Runtime API's contract as pure data and functions: paths, headers, bodies.

An execution environment's runtime (a bootstrap, or a runtime interface client) polls
``GET /2018-06-01/runtime/invocation/next`` for an event, then posts the handler's result
to ``.../invocation/{id}/response`` or its error to ``.../invocation/{id}/error``; a runtime
that cannot start posts to ``.../init/error`` and exits. Source:
https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html (and, for the six MB
response limit, https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Final

__all__ = [
    "API_VERSION",
    "MAX_RESPONSE_BYTES",
    "Call",
    "error_body",
    "invocation_headers",
    "parse_call",
    "read_error",
]

API_VERSION: Final = "2018-06-01"

#: Largest synchronous response a function may return (6 MB).
MAX_RESPONSE_BYTES: Final = 6 * 1024 * 1024

REQUEST_ID: Final = "Lambda-Runtime-Aws-Request-Id"
DEADLINE: Final = "Lambda-Runtime-Deadline-Ms"
FUNCTION_ARN: Final = "Lambda-Runtime-Invoked-Function-Arn"
TRACE_ID: Final = "Lambda-Runtime-Trace-Id"
ERROR_TYPE: Final = "Lambda-Runtime-Function-Error-Type"

_PATH = re.compile(
    rf"^/{API_VERSION}/runtime/(?:"
    r"(?P<next>invocation/next)"
    r"|invocation/(?P<id>[A-Za-z0-9\-]{1,128})/(?P<outcome>response|error)"
    r"|(?P<init>init/error))$"
)


@dataclass(frozen=True)
class Call:
    """What a request to the Runtime API asks: ``next``, ``response``, ``error`` or
    ``init-error``, with the request id it names (if any)."""

    kind: str
    request_id: str = ""


def parse_call(method: str, path: str) -> Call | None:
    """The call a request makes, or None for anything the Runtime API does not serve."""
    match = _PATH.match(path)
    if match is None:
        return None
    if match["next"]:
        return Call("next") if method == "GET" else None
    if method != "POST":
        return None
    if match["init"]:
        return Call("init-error")
    return Call(match["outcome"], match["id"])


def invocation_headers(
    request_id: str, deadline_epoch_ms: int, function_arn: str, trace_id: str
) -> dict[str, str]:
    """The headers ``next`` answers with (the event is the body)."""
    return {
        REQUEST_ID: request_id,
        DEADLINE: str(deadline_epoch_ms),
        FUNCTION_ARN: function_arn,
        TRACE_ID: trace_id,
        "Content-Type": "application/json",
    }


def error_body(message: str, error_type: str) -> bytes:
    """The Runtime API's own error answer (400, 413, ...): ``errorMessage``, ``errorType``."""
    return json.dumps({"errorMessage": message, "errorType": error_type}).encode()


def read_error(body: bytes, headers: dict[str, str]) -> tuple[str, str, list[str]]:
    """A runtime's posted error as (type, message, stack trace): the body's ``errorType``
    (else the ``Lambda-Runtime-Function-Error-Type`` header, else ``Unhandled``), its
    ``errorMessage`` and ``stackTrace``; a body that is not that JSON is kept as the
    message."""
    header = headers.get(ERROR_TYPE.lower(), "") or "Unhandled"
    try:
        data: Any = json.loads(body or b"{}")
    except ValueError:
        return header, body.decode("utf-8", "replace"), []
    if not isinstance(data, dict):
        return header, str(data), []
    trace = data.get("stackTrace")
    lines = [str(x) for x in trace] if isinstance(trace, list) else []
    return str(data.get("errorType") or header), str(data.get("errorMessage", "")), lines
