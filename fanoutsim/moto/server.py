"""An AWS endpoint for code outside this process: moto's server mode over the very backends
the simulator uses (the in-process mock and the server share moto's state), on loopback.

Any AWS SDK or the AWS CLI can then put events on the bus or read the tables with
``--endpoint-url`` pointing here; its events go through the same patched ``PutEvents`` as
the simulator's own, so they are validated, traced and metered alike. Each request is
counted (``Meter.count_endpoint_call``): as the pipeline's when a function of the stack made
it (a user's function running as a process; its SDK's User-Agent names it), as an outside
caller's otherwise.

A :class:`Guard` stands before moto, as AWS's edge does: every request carries a SigV4
signature by the run's keys, bound to its region and body, checked as AWS's JSON services
do (400 with ``MissingAuthenticationTokenException``, ``UnrecognizedClientException`` or
``InvalidSignatureException``, never moto's HTML error page); a body over the request limit
is refused (413) before it is read; DynamoDB's batch limits that moto lacks answer
``ValidationException``; when other devices can reach the stack, a ``Host`` it did not
advertise gets 421. Each connection may sit idle :data:`IDLE_TIMEOUT_S` and at most
:data:`MAX_CONNECTIONS` are served at once (503 beyond): a slow client holds one thread for
seconds, not the server.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import re
import threading
from collections.abc import Callable, Iterable
from typing import Any, Final

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import BaseWSGIServer, make_server

from fanoutsim.addresses import MISDIRECTED_TEXT, host_allowed
from fanoutsim.aws import sigv4
from fanoutsim.aws.dynamodb_requests import request_error
from fanoutsim.aws.limits import limit
from fanoutsim.errors import ManagementError

__all__ = ["IDLE_TIMEOUT_S", "MAX_CONNECTIONS", "AwsEndpoint", "Guard", "operation_of"]

#: How long a connection may wait for a request's next bytes before it is closed.
IDLE_TIMEOUT_S: Final = 10.0
#: Connections served at once; more are answered 503 and closed.
MAX_CONNECTIONS: Final = 64
#: The signing names of the services this endpoint serves.
_SERVICES: Final = ("events", "dynamodb")

#: The JSON protocols' target prefixes, to service names as fanoutsim meters them.
_TARGETS = {
    "AWSEvents": "events",
    "DynamoDB_20120810": "dynamodb",
    "DynamoDBStreams_20120810": "dynamodbstreams",
}
_SCOPE = re.compile(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/aws4_request")


def operation_of(environ: dict[str, Any]) -> tuple[str, str]:
    """(service, operation) of one AWS request, from its JSON target or its signature."""
    target = str(environ.get("HTTP_X_AMZ_TARGET", ""))
    prefix, _, operation = target.partition(".")
    if operation:
        return _TARGETS.get(prefix, prefix.lower()), operation
    scope = _SCOPE.search(str(environ.get("HTTP_AUTHORIZATION", "")))
    return (scope.group(1) if scope else "unknown"), str(environ.get("REQUEST_METHOD", ""))


_log = logging.getLogger("fanoutsim.aws_endpoint")


class _QuietRequestHandler(MotoRequestHandler):
    """moto's handler with werkzeug's access log sent to a logger instead of stderr (a
    notebook showed every request as a red box)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        _log.debug("%s %s %s", self.command, self.path, code)

    def log(self, type: str, message: str, *args: Any) -> None:
        _log.info(message, *args)

    timeout = IDLE_TIMEOUT_S  # the socket's: a silent client is dropped, not waited on


def _answer(start_response: Any, status: str, body: bytes, kind: str) -> list[bytes]:
    start_response(status, [("Content-Type", kind), ("Content-Length", str(len(body)))])
    return [body]


def _aws_error(start_response: Any, code: str, message: str) -> list[bytes]:
    """An error as AWS's JSON services write it."""
    answer = json.dumps({"__type": code, "message": message}).encode()
    return _answer(start_response, "400 Bad Request", answer, "application/x-amz-json-1.0")


class Guard:
    """What the AWS endpoint checks before moto sees a request: ``Host`` (given
    ``allowed_hosts``), size, SigV4 signature and DynamoDB's batch limits. ``check``
    returns None to pass, or the WSGI answer."""

    def __init__(self, keys: sigv4.SigningKeys, allowed_hosts: frozenset[str] | None) -> None:
        self.keys = keys
        self.allowed_hosts = allowed_hosts

    def check(self, environ: dict[str, Any], start_response: Any) -> list[bytes] | None:
        if self.allowed_hosts is not None and not host_allowed(
            environ.get("HTTP_HOST"), self.allowed_hosts
        ):
            text = MISDIRECTED_TEXT.encode()
            return _answer(start_response, "421 Misdirected Request", text, "text/plain")
        if environ.get("HTTP_TRANSFER_ENCODING"):
            return _answer(start_response, "411 Length Required", b"", "text/plain")
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= limit("aws_request_bytes"):
            return _answer(start_response, "413 Request Entity Too Large", b"", "text/plain")
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)  # moto reads it again
        headers = {
            key[5:].replace("_", "-").lower(): str(value)
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if environ.get(key):
                headers[key.replace("_", "-").lower()] = str(environ[key])
        path = environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ["PATH_INFO"]
        query = environ.get("QUERY_STRING", "")
        if query and "?" not in path:
            path = f"{path}?{query}"
        try:
            sigv4.verify(
                self.keys,
                method=environ["REQUEST_METHOD"],
                url=f"http://{headers.get('host', '')}{path}",
                headers=headers,
                body=body,
                services=_SERVICES,
            )
        except ManagementError as failure:
            code = failure.code
            if code == "ForbiddenException":
                code = "MissingAuthenticationTokenException"
            return _aws_error(start_response, code, str(failure.message))
        service, operation = operation_of(environ)
        refused = request_error(operation, body) if service == "dynamodb" else None
        return _aws_error(start_response, *refused) if refused else None


_BUSY = b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


def _bound_connections(server: Any, most: int) -> None:
    """At most ``most`` connections in service at once (a thread each); the next ones are
    answered 503 and closed at once instead of each taking a thread."""
    slots = threading.BoundedSemaphore(most)

    def served(request: Any, client_address: Any) -> None:
        try:
            server.finish_request(request, client_address)
        except Exception:  # a broken connection costs only itself, and says so in the log
            _log.info("connection from %s failed", client_address, exc_info=True)
        finally:
            slots.release()  # before the close, so a client that sees it close finds a slot
            server.shutdown_request(request)

    def process_request(request: Any, client_address: Any) -> None:
        if not slots.acquire(blocking=False):
            with contextlib.suppress(OSError):
                request.sendall(_BUSY)
            server.shutdown_request(request)
            return
        try:
            threading.Thread(target=served, args=(request, client_address), daemon=True).start()
        except BaseException:
            slots.release()
            raise

    server.process_request = process_request


class AwsEndpoint:
    """moto's WSGI app on ``host:port`` in a thread; ``count`` hears every request that
    passes ``guard``: its service, operation and User-Agent."""

    def __init__(
        self,
        host: str,
        port: int,
        count: Callable[[str, str, str], None],
        guard: Guard,
    ) -> None:
        app = DomainDispatcherApplication(create_backend_app)

        def counted(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
            refused = guard.check(environ, start_response)
            if refused is not None:
                return refused
            count(*operation_of(environ), str(environ.get("HTTP_USER_AGENT", "")))
            result: Iterable[bytes] = app(environ, start_response)
            return result

        self._server: BaseWSGIServer = make_server(
            host, port, counted, threaded=True, request_handler=_QuietRequestHandler
        )
        _bound_connections(self._server, MAX_CONNECTIONS)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="fanoutsim-aws", daemon=True
        )
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._server.server_port)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(10)
