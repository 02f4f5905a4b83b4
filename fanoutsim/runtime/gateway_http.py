"""The stage's HTTP side: the ``@connections`` management API, the REST routes (``GET
/flights`` through its function, as an API Gateway proxy integration would), the
endpoints document and the static flight-board page.

The management API's verdicts come from :class:`~fanoutsim.aws.management.ManagementApi`;
this module checks each management call's SigV4 signature (:mod:`~fanoutsim.aws.sigv4`),
turns HTTP requests into calls on the API, renders its errors in AWS's wire form,
and hands accepted posts to the socket side (anything with ``send`` and
``close_connection``, i.e. the :class:`~fanoutsim.runtime.gateway.Gateway`).
"""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from fanoutsim.addresses import MISDIRECTED_TEXT, as_seen_from, host_allowed, host_name
from fanoutsim.aws import apigw, management, sigv4
from fanoutsim.aws.management import ConnectionRecord, ManagementApi
from fanoutsim.errors import ManagementError
from fanoutsim.runtime.function_runtime import FunctionRuntime
from fanoutsim.runtime.http_server import Request, Response

__all__ = ["MISDIRECTED", "WEB_ROOT", "GatewayHttp", "Sockets", "error_response", "static"]

WEB_ROOT = Path(__file__).resolve().parent.parent / "web"
_TEXT = {"Content-Type": "text/plain; charset=utf-8"}
#: A request whose ``Host`` is not this server's (RFC 9110 section 15.5.20).
MISDIRECTED = Response(421, MISDIRECTED_TEXT.encode(), _TEXT)
#: A CORS preflight on loopback: any origin, the headers a SigV4-signed request carries.
_PREFLIGHT_ANY = Response(
    204,
    headers={
        "Access-Control-Allow-Origin": "*",
        "Access-Control-Allow-Methods": "GET, OPTIONS",
        "Access-Control-Allow-Headers": (
            "Authorization, Content-Type, X-Amz-Date, X-Amz-Security-Token, "
            "X-Amz-Content-Sha256, X-Amz-User-Agent"
        ),
        "Access-Control-Max-Age": "600",
    },
)
_CONTENT_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript", ".css": "text/css"}


class Sockets(Protocol):
    """What the HTTP side needs of the WebSocket side."""

    def send(self, record: ConnectionRecord, data: bytes) -> None: ...

    async def close_connection(self, record: ConnectionRecord) -> None: ...


def error_response(failure: ManagementError) -> Response:
    status, headers, body = management.wire(failure)
    return Response(status, body, headers)


class GatewayHttp:
    """Routes HTTP requests: management API, REST routes, endpoints, then static files."""

    def __init__(
        self,
        api: ManagementApi,
        sockets: Sockets,
        runtime: FunctionRuntime,
        *,
        stage: str,
        rest_routes: Mapping[str, str],
        endpoints: Callable[[], dict[str, str]],
        keys: sigv4.SigningKeys,
        allowed_hosts: frozenset[str] | None = None,
        signed_rest: bool = False,
    ) -> None:
        self.api = api
        self.sockets = sockets
        self.runtime = runtime
        self.stage = stage
        self.rest_routes = dict(rest_routes)
        self.endpoints = endpoints
        self.keys = keys
        #: ``Host`` names (and so page origins) answered; None: any, as on loopback.
        self.allowed_hosts = allowed_hosts
        #: REST routes take only SigV4-signed requests (the seed's ``AWS_IAM``).
        self.signed_rest = signed_rest

    def handle(self, request: Request) -> Response | Awaitable[Response]:
        """Answer ``request``; every answer carries a fresh ``x-amzn-RequestId``, as AWS's do
        (boto3 shows it as ``ResponseMetadata.RequestId``)."""
        if self.allowed_hosts is not None:
            if not host_allowed(request.headers.get("host"), self.allowed_hosts):
                return _with_request_id(MISDIRECTED)
            if request.method == "OPTIONS":
                return _with_request_id(self._preflight(request))
        elif request.method == "OPTIONS" and self._is_rest(request.path):
            # the seed's frontend signs GET /flights (IAM), so its browser asks first
            return _with_request_id(_PREFLIGHT_ANY)
        answer = self._route(request)
        if isinstance(answer, Response):
            return _with_request_id(self._cors(request, answer))
        return _later_with_request_id(answer, lambda r: self._cors(request, r))

    def _is_rest(self, path: str) -> bool:
        local = path.removeprefix("/" + self.stage)
        return any(route.split(" ", 1)[1] == local for route in self.rest_routes)

    def _origin(self, request: Request) -> str | None:
        """The request's ``Origin`` if it is one of this server's own pages."""
        origin = request.headers.get("origin")
        if origin is None or self.allowed_hosts is None:
            return None
        return origin if host_name(urlsplit(origin).netloc) in self.allowed_hosts else None

    def _preflight(self, request: Request) -> Response:
        """A CORS preflight: allowed for the page's own origins only."""
        origin = self._origin(request)
        if origin is None:
            return Response(403, b"CORS: this origin is not allowed\n", _TEXT)
        return Response(
            204,
            headers={
                "Access-Control-Allow-Origin": origin,
                "Access-Control-Allow-Methods": "GET",
                "Access-Control-Allow-Headers": "Content-Type",
                "Vary": "Origin",
            },
        )

    def _cors(self, request: Request, response: Response) -> Response:
        """Beyond loopback, a function's ``Access-Control-Allow-Origin: *`` narrows to the
        page's own origin (or goes); on loopback answers pass as the function gave them."""
        if self.allowed_hosts is None or not response.headers:
            return response
        headers = {
            k: v for k, v in response.headers.items() if k.lower() != "access-control-allow-origin"
        }
        if len(headers) == len(response.headers):
            return response
        origin = self._origin(request)
        if origin is not None:
            headers.update({"Access-Control-Allow-Origin": origin, "Vary": "Origin"})
        return dataclasses.replace(response, headers=headers)

    def _route(self, request: Request) -> Response | Awaitable[Response]:
        prefix = f"/{self.stage}/@connections/"
        if "/@connections" in request.path and not request.path.startswith(prefix):
            # a wrong or missing stage in the endpoint: API Gateway answers 403, not 404
            return error_response(management.error("ForbiddenException", "Forbidden"))
        if request.path.startswith(prefix):
            try:
                self._verify(request)
            except ManagementError as failure:
                return error_response(failure)
            return self._management(request, request.path[len(prefix) :])
        route = self.rest_routes.get(
            f"{request.method} {request.path.removeprefix('/' + self.stage)}"
        )
        if route is not None:
            try:
                if self.signed_rest:
                    self._verify(request)
            except ManagementError as failure:
                return error_response(failure)
            return self._rest(route, request)
        if request.path == "/config.json":  # where the page finds the APIs, as it saw us
            seen = as_seen_from(self.endpoints(), request.headers.get("host"))
            return Response(200, json.dumps(seen).encode())
        if request.path == "/room":
            return static("/room.html")
        if request.path == "/room/":  # its scripts are relative: /room/live.js would 404
            return Response(308, b"", {"Location": "../room", "Content-Type": "text/plain"})
        return static(request.path)

    def _verify(self, request: Request) -> None:
        """The request's SigV4 signature, checked against the stage's keys (raises): one
        verifier for the management API and, with IAM on, the REST routes."""
        host = request.headers.get("host", "")
        query = f"?{request.query}" if request.query else ""
        sigv4.verify(
            self.keys,
            method=request.method,
            url=f"http://{host}{request.raw_path or request.path}{query}",
            headers=request.headers,
            body=request.body,
        )

    def _management(self, request: Request, connection_id: str) -> Response | Awaitable[Response]:
        """POST answers at once (the hot path); DELETE waits for the close handshake."""
        try:
            if request.method == "POST":
                self.sockets.send(self.api.post(connection_id, request.body), request.body)
                return Response(200)
            if request.method == "GET":
                return Response(200, json.dumps(self.api.get(connection_id)).encode())
            if request.method == "DELETE":
                return self._delete(self.api.delete(connection_id))
            raise management.error("BadRequestException", f"{request.method} not allowed")
        except ManagementError as failure:
            return error_response(failure)

    async def _delete(self, record: ConnectionRecord) -> Response:
        await self.sockets.close_connection(record)
        return Response(204)

    async def _rest(self, function: str, request: Request) -> Response:
        try:  # a body that is not UTF-8 text reaches the function base64-encoded
            body, encoded = request.body.decode() or None, False
        except UnicodeDecodeError:
            body, encoded = base64.b64encode(request.body).decode(), True
        event = {
            "resource": request.path,
            "path": request.path,
            "httpMethod": request.method,
            "headers": dict(request.headers),
            "queryStringParameters": apigw.query_parameters(request.query),
            "body": body,
            "isBase64Encoded": encoded,
            "requestContext": {"stage": self.stage, "httpMethod": request.method},
        }
        invocation = await self.runtime.invoke_async(function, event)
        if not invocation.ok or not isinstance(invocation.result, dict):
            return Response(502, b'{"message": "Internal server error"}')
        result = invocation.result
        headers = {str(k): str(v) for k, v in (result.get("headers") or {}).items()}
        return Response(
            int(result.get("statusCode", 200)), str(result.get("body", "")).encode(), headers
        )


def _with_request_id(response: Response) -> Response:
    headers = {**(response.headers or {}), "x-amzn-RequestId": apigw.new_uuid()}
    return Response(response.status, response.body, headers)


async def _later_with_request_id(
    answer: Awaitable[Response], then: Callable[[Response], Response]
) -> Response:
    return _with_request_id(then(await answer))


def static(path: str) -> Response:
    """A file of the flight-board page, or 404."""
    name = "index.html" if path in ("/", "") else path.lstrip("/")
    file = (WEB_ROOT / name).resolve()
    if WEB_ROOT in file.parents and file.is_file():
        content_type = _CONTENT_TYPES.get(file.suffix, "application/octet-stream")
        return Response(200, file.read_bytes(), {"Content-Type": content_type})
    return Response(404, b'{"message": "Not Found"}')
