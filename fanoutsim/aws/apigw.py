"""API Gateway WebSocket API semantics: ids, Lambda proxy events, routes, quotas, and the
wire form of the @connections management API's answers.

Everything here is pure data; the runtime's gateway does the I/O. The ``@connections``
management API's registry and verdicts live beside this module, in
:mod:`fanoutsim.aws.management`. Event shapes follow the
events a Lambda proxy integration receives from a real WebSocket API (fixtures in
``tests/events/apigw_*.json``); error responses are shaped so that botocore's rest-json
parser turns them into the same ``ClientError`` codes a real endpoint produces.
"""

from __future__ import annotations

import base64
import json
import math
import random
import secrets
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NewType
from urllib.parse import parse_qsl

from fanoutsim.errors import RouteNotFound, ValidationError

__all__ = [
    "CLOSE_MESSAGE_TOO_BIG",
    "CLOSE_UNSUPPORTED_DATA",
    "CONNECT_ROUTE",
    "DEFAULT_ROUTE",
    "DELETED_REASON",
    "DISCONNECT_ROUTE",
    "FRAME_BYTES",
    "MAX_PAYLOAD_BYTES",
    "NO_STATUS_REASON",
    "ConnectionId",
    "EventSource",
    "connect_event",
    "disconnect_event",
    "disconnect_status",
    "edge_headers",
    "error_frame",
    "message_event",
    "message_units",
    "multi_query_parameters",
    "new_connection_id",
    "new_request_id",
    "new_uuid",
    "query_parameters",
    "request_time",
    "select_route",
    "split_frames",
]

ConnectionId = NewType("ConnectionId", str)

# Size quotas (API Gateway WebSocket API; time and rate quotas: fanoutsim.aws.quotas).
MAX_PAYLOAD_BYTES = 128 * 1024
FRAME_BYTES = 32 * 1024
CLOSE_MESSAGE_TOO_BIG = 1009
CLOSE_UNSUPPORTED_DATA = 1003  # a binary frame from a client

DEFAULT_ROUTE = "$default"
CONNECT_ROUTE = "$connect"
DISCONNECT_ROUTE = "$disconnect"
_BODY_EXPRESSION_PREFIX = "$request.body."
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


# --- ids ----------------------------------------------------------------------------------


def _short_id(rng: random.Random | None) -> str:
    """16 base64 characters ending in ``=``: the form of connection/request/message ids."""
    raw = secrets.token_bytes(11) if rng is None else bytes(rng.getrandbits(8) for _ in range(11))
    return base64.b64encode(raw).decode()


def new_connection_id(rng: random.Random | None = None) -> ConnectionId:
    """A fresh connection id, e.g. ``L0SM9cOFvHcCIhw=`` (pass ``rng`` for reproducibility)."""
    return ConnectionId(_short_id(rng))


def new_request_id(rng: random.Random | None = None) -> str:
    """A request or message id in the same base64 form AWS uses."""
    return _short_id(rng)


def new_uuid() -> str:
    """A random (version 4) UUID as text, the form of an HTTP answer's ``x-amzn-RequestId``;
    built from 16 random bytes directly, as it is made for every ``@connections`` post."""
    h = secrets.token_bytes(16).hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"


# --- events -------------------------------------------------------------------------------


def request_time(now_ms: int) -> str:
    """``requestTime`` in AWS's CLF form, e.g. ``09/Feb/2024:18:11:43 +0000`` (English month
    names whatever the locale)."""
    t = datetime.fromtimestamp(now_ms / 1000, tz=UTC)
    return f"{t.day:02d}/{_MONTHS[t.month - 1]}/{t.year}:{t:%H:%M:%S} +0000"


@dataclass(frozen=True, slots=True)
class EventSource:
    """Where a WebSocket proxy event comes from: the API stage and one client connection.
    The gateway keeps one per connection and stamps every event of that connection with it."""

    connection_id: str
    connected_at_ms: int
    api_id: str
    stage: str
    domain_name: str
    source_ip: str
    user_agent: str
    #: ``requestContext.authorizer`` of every event of the connection (with an authorizer)
    authorizer: Mapping[str, Any] | None = None


def _event(
    source: EventSource,
    route_key: str,
    event_type: str,
    *,
    now_ms: int,
    request_id: str,
    context: Mapping[str, Any] | None = None,
    top: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The part every WebSocket proxy event shares, plus event-specific keys."""
    request_context: dict[str, Any] = {
        "routeKey": route_key,
        "eventType": event_type,
        "extendedRequestId": request_id,
        "requestTime": request_time(now_ms),
        "messageDirection": "IN",
        "stage": source.stage,
        "connectedAt": source.connected_at_ms,
        "requestTimeEpoch": now_ms,
        "identity": {"sourceIp": source.source_ip, "userAgent": source.user_agent},
        "requestId": request_id,
        "domainName": source.domain_name,
        "connectionId": source.connection_id,
        "apiId": source.api_id,
        **(context or {}),
    }
    if source.authorizer is not None:
        request_context["authorizer"] = dict(source.authorizer)
    return {**(top or {}), "requestContext": request_context, "isBase64Encoded": False}


def _headers(headers: Mapping[str, str]) -> dict[str, Any]:
    return {"headers": dict(headers), "multiValueHeaders": {k: [v] for k, v in headers.items()}}


def edge_headers(
    headers: Mapping[str, str], *, source_ip: str, port: int, proto: str, now_s: float
) -> dict[str, str]:
    """The upgrade's headers as API Gateway's edge passes them on: with an
    ``X-Amzn-Trace-Id`` (``Root=1-<epoch seconds, hex>-<96 random bits, hex>``), and
    ``X-Forwarded-For`` (the client's address appended to any it sent), ``-Port`` and
    ``-Proto`` (locally the gateway's own port and scheme, where AWS says 443 and https)."""
    passed = {k: v for k, v in headers.items() if not k.lower().startswith("x-forwarded-")}
    sent = next((v for k, v in headers.items() if k.lower() == "x-forwarded-for"), "")
    trace = f"Root=1-{int(now_s):08x}-{secrets.token_hex(12)}"
    passed.setdefault("X-Amzn-Trace-Id", trace)
    passed["X-Forwarded-For"] = f"{sent}, {source_ip}" if sent else source_ip
    passed["X-Forwarded-Port"] = str(port)
    passed["X-Forwarded-Proto"] = proto
    return passed


def connect_event(
    source: EventSource,
    *,
    headers: dict[str, str],
    query: Mapping[str, str | list[str]] | None,
    request_id: str,
) -> dict[str, Any]:
    """The ``$connect`` event: headers and (if any) query string; sent at connectedAt. A
    repeated parameter keeps its last value in ``queryStringParameters`` and all of them in
    ``multiValueQueryStringParameters``, as API Gateway passes them."""
    top = _headers(headers)
    if query:
        multi = {k: [v] if isinstance(v, str) else list(v) for k, v in query.items()}
        top["queryStringParameters"] = {k: v[-1] for k, v in multi.items()}
        top["multiValueQueryStringParameters"] = multi
    return _event(
        source,
        CONNECT_ROUTE,
        "CONNECT",
        now_ms=source.connected_at_ms,
        request_id=request_id,
        top=top,
    )


def message_event(
    source: EventSource,
    body: str,
    route_key: str,
    *,
    now_ms: int,
    request_id: str,
    message_id: str,
) -> dict[str, Any]:
    """A MESSAGE event for a route (``$default`` or a custom one) carrying a text frame."""
    return _event(
        source,
        route_key,
        "MESSAGE",
        now_ms=now_ms,
        request_id=request_id,
        context={"messageId": message_id},
        top={"body": body},
    )


DISCONNECT_HEADERS = {"Host": "", "x-api-key": "", "X-Forwarded-For": "", "x-restapi": ""}


def disconnect_event(
    source: EventSource,
    *,
    status_code: int,
    reason: str,
    now_ms: int,
    request_id: str,
) -> dict[str, Any]:
    """The best-effort ``$disconnect`` event with the close code and reason.

    AWS sends a fixed header set here (Host, x-api-key, X-Forwarded-For, x-restapi); Host
    is filled with the domain name.
    """
    headers = {**DISCONNECT_HEADERS, "Host": source.domain_name}
    return _event(
        source,
        DISCONNECT_ROUTE,
        "DISCONNECT",
        now_ms=now_ms,
        request_id=request_id,
        context={"disconnectStatusCode": status_code, "disconnectReason": reason},
        top=_headers(headers),
    )


#: The reason ``$disconnect`` reports after ``DeleteConnection`` (code 1000), as AWS logs it.
DELETED_REASON = "Connection Closed Normally"
#: ... and after a client's close frame that carried no status (code 1005).
NO_STATUS_REASON = "Client-side close frame status not set"

Close = tuple[int, str]


def disconnect_status(sent: Close | None, received: Close | None, received_first: bool) -> Close:
    """The ``disconnectStatusCode`` and ``disconnectReason`` of a closed connection: the
    close frame of whoever closed first (a 1009 the gateway sent stays 1009 even if the
    client never answers), a client's frame without a status as 1005 with AWS's wording,
    and 1006 with no reason when no close frame was exchanged (a cut connection)."""
    if received is not None and (received_first or sent is None):
        code, reason = received
        return (code, NO_STATUS_REASON) if code == 1005 else (code, reason)
    if sent is not None:
        return sent
    return 1006, ""


def query_parameters(query: str) -> dict[str, str] | None:
    """Query-string parameters as API Gateway passes them (None when there are none)."""
    return dict(parse_qsl(query)) if query else None


def multi_query_parameters(query: str) -> dict[str, list[str]] | None:
    """Every value of every query-string parameter, in order (None when there are none)."""
    values: dict[str, list[str]] = {}
    for key, value in parse_qsl(query):
        values.setdefault(key, []).append(value)
    return values or None


# --- routing ------------------------------------------------------------------------------


def _selected_value(body: str | bytes, path: list[str]) -> str | None:
    try:  # numbers keep their JSON text: the route key is the value stringified
        value: Any = json.loads(body, parse_int=str, parse_float=str)
    except (ValueError, UnicodeDecodeError, RecursionError):  # Recursion: nested too deep
        return None
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return _stringified(value)


def _stringified(value: Any) -> str | None:
    """A selected JSON value as API Gateway stringifies it for route selection: numbers as
    their text, booleans as ``true``/``false``, arrays as ``[a, b]``; null and objects
    select nothing (the route page shows no form for them)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        items = [_stringified(item) for item in value]
        return None if None in items else "[" + ", ".join(map(str, items)) + "]"
    return None


def select_route(
    body: str | bytes, routes: Collection[str], expression: str = "$request.body.action"
) -> str:
    """The route a message goes to under a ``$request.body.<path>`` selection expression.

    The selected value is stringified (``{"action": 7}`` selects route ``7``). Non-JSON
    bodies, non-objects, a missing key, a null or object value, or an unknown value fall back
    to ``$default``; without it :class:`RouteNotFound` is raised (AWS answers the client
    with an error frame, see :func:`error_frame`).
    """
    if not expression.startswith(_BODY_EXPRESSION_PREFIX):
        raise ValidationError(f"unsupported route selection expression {expression!r}")
    path = expression.removeprefix(_BODY_EXPRESSION_PREFIX).split(".")
    selected = _selected_value(body, path)
    if selected is not None and selected in routes and not selected.startswith("$"):
        return selected
    if DEFAULT_ROUTE in routes:
        return DEFAULT_ROUTE
    raise RouteNotFound(f"no route for {selected!r} and no {DEFAULT_ROUTE} route")


def error_frame(message: str, connection_id: str, request_id: str) -> str:
    """The text frame AWS sends a client when a message cannot be routed or its integration
    fails (``"Forbidden"``, ``"Internal server error"``)."""
    return json.dumps({"message": message, "connectionId": connection_id, "requestId": request_id})


# --- quotas and metering ------------------------------------------------------------------


def split_frames(data: bytes) -> list[bytes]:
    """Cut a message into 32 KB frames (an empty message is one empty frame)."""
    return [data[i : i + FRAME_BYTES] for i in range(0, len(data), FRAME_BYTES)] or [b""]


def message_units(size_bytes: int) -> int:
    """Billed messages for one message: one per started 32 KB, at least one."""
    return max(1, math.ceil(size_bytes / FRAME_BYTES))
