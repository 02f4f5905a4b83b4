"""The gateway's HTTP side: the ``@connections`` management API, the REST routes (``GET
/flights`` through its function, as an API Gateway proxy integration would) and the static
flight-board page. The semantics of a post live in :class:`~fanoutsim.runtime.gateway.Gateway`;
this module turns HTTP requests into calls on it and answers in AWS's wire form.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable
from pathlib import Path
from typing import TYPE_CHECKING

from fanoutsim.aws import apigw
from fanoutsim.runtime.http_server import Request, Response

if TYPE_CHECKING:
    from fanoutsim.runtime.gateway import Gateway, PostError

WEB_ROOT = Path(__file__).resolve().parent.parent / "web"
_CONTENT_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript", ".css": "text/css"}


def error_response(error: PostError) -> Response:
    status, headers, body = error
    return Response(status, body, headers)


def gone(connection_id: str) -> PostError:
    return apigw.management_error("GoneException", f"Connection {connection_id} is gone")


class GatewayHttp:
    """Routes HTTP requests to a gateway: management API, REST routes, then static files."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    def handle(self, request: Request) -> Response | Awaitable[Response]:
        stage = self.gateway.stage
        prefix = f"/{stage}/@connections/"
        if request.path.startswith(prefix):
            if "execute-api" not in request.headers.get("authorization", ""):
                return error_response(
                    apigw.management_error("ForbiddenException", "Missing Authentication Token")
                )
            return self._management(request, request.path[len(prefix) :])
        route = self.gateway.rest_routes.get(
            f"{request.method} {request.path.removeprefix('/' + stage)}"
        )
        if route is not None:
            return self._rest(route, request)
        if request.path == "/config.json":  # where the page finds the APIs
            return Response(200, json.dumps(self.gateway.endpoints).encode())
        return static(request.path)

    def _management(self, request: Request, connection_id: str) -> Response | Awaitable[Response]:
        """POST answers at once (the hot path); DELETE waits for the close handshake."""
        if request.method == "POST":
            error = self.gateway.post(connection_id, request.body)
            return Response(200) if error is None else error_response(error)
        if request.method == "DELETE":
            return self._delete(connection_id)
        if request.method == "GET":
            connection = self.gateway.connections.get(connection_id)
            if connection is None:
                return error_response(gone(connection_id))
            source = connection.source
            info = apigw.connection_info(
                source.connected_at_ms,
                connection.last_active_ms,
                source.source_ip,
                source.user_agent,
            )
            return Response(200, json.dumps(info).encode())
        return error_response(
            apigw.management_error("BadRequestException", f"{request.method} not allowed")
        )

    async def _delete(self, connection_id: str) -> Response:
        connection = self.gateway.connections.get(connection_id)
        if connection is None:
            return error_response(gone(connection_id))
        await connection.ws.close(1000, "Going away")
        return Response(204)

    async def _rest(self, function: str, request: Request) -> Response:
        event = {
            "resource": request.path,
            "path": request.path,
            "httpMethod": request.method,
            "headers": dict(request.headers),
            "queryStringParameters": parse_query(request.query),
            "body": request.body.decode() or None,
            "isBase64Encoded": False,
            "requestContext": {"stage": self.gateway.stage, "httpMethod": request.method},
        }
        invocation = await self.gateway.runtime.invoke_async(function, event)
        if not invocation.ok or not isinstance(invocation.result, dict):
            return Response(502, b'{"message": "Internal server error"}')
        result = invocation.result
        headers = {str(k): str(v) for k, v in (result.get("headers") or {}).items()}
        return Response(
            int(result.get("statusCode", 200)), str(result.get("body", "")).encode(), headers
        )


def parse_query(query: str) -> dict[str, str] | None:
    """Query-string parameters as API Gateway passes them (None when there are none)."""
    if not query:
        return None
    from urllib.parse import parse_qsl

    return dict(parse_qsl(query))


def static(path: str) -> Response:
    """A file of the flight-board page, or 404."""
    name = "index.html" if path in ("/", "") else path.lstrip("/")
    file = (WEB_ROOT / name).resolve()
    if WEB_ROOT in file.parents and file.is_file():
        content_type = _CONTENT_TYPES.get(file.suffix, "application/octet-stream")
        return Response(200, file.read_bytes(), {"Content-Type": content_type})
    return Response(404, b'{"message": "Not Found"}')
