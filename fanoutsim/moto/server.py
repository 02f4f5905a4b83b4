"""An AWS endpoint for code outside this process: moto's server mode over the very backends
the simulator uses (the in-process mock and the server share moto's state), on loopback.

Any AWS SDK or the AWS CLI can then put events on the bus or read the tables, with any
credentials and ``--endpoint-url`` pointing here; its events go through the same patched
``PutEvents`` as the simulator's own, so they are validated, traced and metered alike. Each
request is counted under the outside caller's label (``Meter.count_outside_call``).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import BaseWSGIServer, make_server

__all__ = ["AwsEndpoint", "operation_of"]

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


class AwsEndpoint:
    """moto's WSGI app on ``host:port`` in a thread; ``count`` hears every request."""

    def __init__(self, host: str, port: int, count: Callable[[str, str], None]) -> None:
        self._host = host
        app = DomainDispatcherApplication(create_backend_app)

        def counted(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
            count(*operation_of(environ))
            result: Iterable[bytes] = app(environ, start_response)
            return result

        self._server: BaseWSGIServer = make_server(
            host, port, counted, threaded=True, request_handler=MotoRequestHandler
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="fanoutsim-aws", daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self._server.server_port}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(10)
