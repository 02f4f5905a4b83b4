"""A Python runtime for one execution environment: load the handler, then loop on the
Lambda Runtime API (next, then response or error), as Lambda's own runtime does.

Runs as its own process (``python python_runtime.py``) with the environment Lambda gives a
function (``AWS_LAMBDA_RUNTIME_API``, ``_HANDLER``, ``LAMBDA_TASK_ROOT``...). Standard
library only, so a user's code finds exactly the packages it brought (and boto3).
"""

from __future__ import annotations

import http.client
import importlib
import json
import os
import sys
import time
import traceback
from typing import Any, NoReturn

__all__ = ["Context", "main"]

_HOST, _, _PORT = os.environ.get("AWS_LAMBDA_RUNTIME_API", "").partition(":")
_BASE = "/2018-06-01/runtime"
_connection: http.client.HTTPConnection | None = None


class _Answer:
    """A Runtime API answer: status, headers, body."""

    def __init__(self, status: int, headers: Any, body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body


def _call(path: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> _Answer:
    """One request on the kept-alive connection to the Runtime API (opened again if the
    server closed it)."""
    global _connection
    for attempt in (1, 2):
        if _connection is None:
            _connection = http.client.HTTPConnection(_HOST, int(_PORT or 0))
        try:
            _connection.request(
                "GET" if body is None else "POST", _BASE + path, body, headers or {}
            )
            answer = _connection.getresponse()
            return _Answer(answer.status, answer.headers, answer.read())
        except (ConnectionError, http.client.HTTPException):
            _connection.close()
            _connection = None
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _error(error: BaseException, kind: str = "", message: str = "") -> bytes:
    return json.dumps(
        {
            "errorMessage": message or str(error),
            "errorType": kind or type(error).__name__,
            "stackTrace": traceback.format_tb(error.__traceback__),
        }
    ).encode()


def _init_error(error: BaseException, kind: str, message: str) -> NoReturn:
    """Report a failed INIT as Lambda's Python runtime names it, then end the process."""
    header = {"Lambda-Runtime-Function-Error-Type": kind}
    _call("/init/error", _error(error, kind, message), header)
    sys.exit(1)


class Context:
    """The attributes and method of Lambda's Python context object."""

    def __init__(self, request_id: str, deadline_ms: int, arn: str) -> None:
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.aws_request_id = request_id
        self.invoked_function_arn = arn
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))


def _load() -> Any:
    sys.path.insert(0, os.environ.get("LAMBDA_TASK_ROOT", "."))
    module, _, name = os.environ.get("_HANDLER", "").rpartition(".")
    try:
        loaded = importlib.import_module(module)
    except SyntaxError as error:
        message = f"Syntax error in module '{module}': {error}"
        _init_error(error, "Runtime.UserCodeSyntaxError", message)
    except Exception as error:  # a missing module, or the module's own code failing
        message = f"Unable to import module '{module}': {error}"
        _init_error(error, "Runtime.ImportModuleError", message)
    handler = getattr(loaded, name, None)
    if not callable(handler):
        missing = AttributeError(f"Handler '{name}' missing on module '{module}'")
        _init_error(missing, "Runtime.HandlerNotFound", str(missing))
    return handler


def main() -> None:
    handler = _load()
    while True:
        answer = _call("/invocation/next")
        request_id = answer.headers["Lambda-Runtime-Aws-Request-Id"]
        deadline = int(answer.headers["Lambda-Runtime-Deadline-Ms"])
        arn = answer.headers["Lambda-Runtime-Invoked-Function-Arn"]
        os.environ["_X_AMZN_TRACE_ID"] = answer.headers.get("Lambda-Runtime-Trace-Id", "")
        event = json.loads(answer.body or b"null")
        where = f"/invocation/{request_id}"
        try:
            result = handler(event, Context(request_id, deadline, arn))
            body = json.dumps(result).encode()
        except Exception as error:
            _call(
                f"{where}/error", _error(error), {"Lambda-Runtime-Function-Error-Type": "Unhandled"}
            )
        else:
            _call(f"{where}/response", body, {"Content-Type": "application/json"})


if __name__ == "__main__":
    main()
