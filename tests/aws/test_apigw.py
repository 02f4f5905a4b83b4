"""API Gateway WebSocket semantics: events against real-shaped fixtures, routing, quotas,
and management API answers as the real boto3 client parses them.

AWS pages this module checks:

- https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-route-keys-connect-disconnect.html
- https://docs.aws.amazon.com/apigateway/latest/developerguide/websocket-api-develop-routes.html
"""

from __future__ import annotations

import base64
import json
import random
import re
import uuid
from pathlib import Path
from typing import Any

import pytest

from fanoutsim.aws import apigw
from fanoutsim.errors import RouteNotFound, ValidationError

EVENTS = Path(__file__).parents[1] / "events"


def fixture(name: str) -> dict[str, Any]:
    return dict(json.loads((EVENTS / f"apigw_{name}.json").read_text()))


def source(event: dict[str, Any], connection_id: str | None = None) -> apigw.EventSource:
    """The event's source, read back from a fixture's requestContext."""
    ctx = event["requestContext"]
    return apigw.EventSource(
        connection_id=connection_id or ctx["connectionId"],
        connected_at_ms=ctx["connectedAt"],
        api_id=ctx["apiId"],
        stage=ctx["stage"],
        domain_name=ctx["domainName"],
        source_ip=ctx["identity"]["sourceIp"],
        user_agent=ctx["identity"]["userAgent"],
    )


def test_connect_event_equals_fixture() -> None:
    expected = fixture("connect")
    built = apigw.connect_event(
        source(expected),
        headers=expected["headers"],
        query=expected["queryStringParameters"],
        request_id=expected["requestContext"]["requestId"],
    )
    assert built == expected


def test_connect_event_without_query_has_no_query_keys() -> None:
    built = apigw.connect_event(
        source(fixture("connect"), "AAAAAAAAAAAAAAA="), headers={}, query=None, request_id="r"
    )
    assert "queryStringParameters" not in built and "multiValueQueryStringParameters" not in built


def test_message_event_equals_fixture() -> None:
    expected = fixture("message")
    ctx = expected["requestContext"]
    built = apigw.message_event(
        source(expected),
        expected["body"],
        ctx["routeKey"],
        now_ms=ctx["requestTimeEpoch"],
        request_id=ctx["requestId"],
        message_id=ctx["messageId"],
    )
    assert built == expected


def test_disconnect_event_equals_fixture() -> None:
    expected = fixture("disconnect")
    ctx = expected["requestContext"]
    built = apigw.disconnect_event(
        source(expected),
        status_code=ctx["disconnectStatusCode"],
        reason=ctx["disconnectReason"],
        now_ms=ctx["requestTimeEpoch"],
        request_id=ctx["requestId"],
    )
    assert built == expected


def test_request_time_uses_english_month_and_utc() -> None:
    assert apigw.request_time(1707502303419) == "09/Feb/2024:18:11:43 +0000"


def test_connection_ids_look_like_aws_ones() -> None:
    ids = {apigw.new_connection_id() for _ in range(200)}
    assert len(ids) == 200
    for cid in ids:
        assert len(cid) == 16 and cid.endswith("=") and len(base64.b64decode(cid)) == 11
    assert apigw.new_connection_id(random.Random(7)) == apigw.new_connection_id(random.Random(7))


def test_request_ids_are_random_version_4_uuids() -> None:
    ids = {apigw.new_uuid() for _ in range(500)}
    assert len(ids) == 500
    for text in ids:
        parsed = uuid.UUID(text)
        assert str(parsed) == text and parsed.version == 4 and parsed.variant == uuid.RFC_4122
    assert {text[19] for text in ids} == set("89ab")  # every variant nibble turns up


# --- routing ------------------------------------------------------------------------------

ROUTES = {"$connect", "$disconnect", "$default", "subscribe", "unsubscribe"}


@pytest.mark.parametrize(
    ("body", "route"),
    [
        ('{"action": "subscribe", "flight": "BA1"}', "subscribe"),
        (b'{"action": "unsubscribe"}', "unsubscribe"),
        ('{"action": "publish"}', "$default"),
        ('{"action": "$connect"}', "$default"),
        ('{"action": 3}', "$default"),
        ('{"flight": "BA1"}', "$default"),
        ('["subscribe"]', "$default"),
        ("subscribe", "$default"),
        (b"\xff\xfe", "$default"),
        ("", "$default"),
    ],
)
def test_select_route(body: str | bytes, route: str) -> None:
    assert apigw.select_route(body, ROUTES) == route


NUMBERED = ROUTES | {"7", "1.50", "true", "[a, 2]"}


@pytest.mark.parametrize(
    ("body", "route"),
    [
        ('{"action": 7}', "7"),
        ('{"action": 1.50}', "1.50"),  # the number's own text
        ('{"action": true}', "true"),
        ('{"action": ["a", 2]}', "[a, 2]"),
        ('{"action": null}', "$default"),
        ('{"action": {"x": 1}}', "$default"),
        ('{"action": 8}', "$default"),
    ],
)
def test_a_selected_value_is_stringified_before_matching(body: str, route: str) -> None:
    """https://docs.aws.amazon.com/apigateway/latest/developerguide/websocket-api-develop-routes.html
    says the result of the selection expression is stringified."""
    assert apigw.select_route(body, NUMBERED) == route


def test_nested_selection_expression() -> None:
    body = '{"meta": {"op": "subscribe"}, "action": "unsubscribe"}'
    assert apigw.select_route(body, ROUTES, "$request.body.meta.op") == "subscribe"
    assert apigw.select_route('{"meta": "x"}', ROUTES, "$request.body.meta.op") == "$default"


def test_unmatched_without_default_raises() -> None:
    with pytest.raises(RouteNotFound):
        apigw.select_route('{"action": "publish"}', {"subscribe"})
    assert isinstance(RouteNotFound(), ValidationError)
    with pytest.raises(ValidationError):
        apigw.select_route("{}", ROUTES, "$request.header.action")


def test_error_frame_shape() -> None:
    frame = json.loads(apigw.error_frame("Forbidden", "abc=", "req="))
    assert frame == {"message": "Forbidden", "connectionId": "abc=", "requestId": "req="}


# --- quotas -------------------------------------------------------------------------------


def test_split_frames_and_message_units() -> None:
    data = bytes(range(256)) * 400  # 102,400 bytes
    frames = apigw.split_frames(data)
    assert [len(f) for f in frames] == [32768, 32768, 32768, 4096]
    assert b"".join(frames) == data
    assert apigw.split_frames(b"") == [b""]
    assert [apigw.message_units(n) for n in (0, 1, 32768, 32769, 131072)] == [1, 1, 1, 2, 4]
    assert apigw.MAX_PAYLOAD_BYTES == 4 * apigw.FRAME_BYTES


def test_the_edge_adds_a_trace_id_and_the_forwarded_headers() -> None:
    """A real ``$connect`` event (``tests/events/apigw_connect.json``) carries
    ``X-Amzn-Trace-Id`` and ``X-Forwarded-For/Port/Proto``, which the client never sent."""
    real = json.loads((EVENTS / "apigw_connect.json").read_text())["headers"]
    sent = {"Host": "h", "X-Forwarded-Port": "1", "X-Forwarded-For": "10.9.9.9"}
    passed = apigw.edge_headers(sent, source_ip="127.0.0.1", port=9000, proto="http", now_s=1.7e9)
    added = {k for k in real if k.startswith(("X-Amzn", "X-Forwarded"))}
    assert added <= set(passed)
    assert re.fullmatch(r"Root=1-[0-9a-f]{8}-[0-9a-f]{24}", passed["X-Amzn-Trace-Id"])
    assert re.fullmatch(r"Root=1-[0-9a-f]{8}-[0-9a-f]{24}", real["X-Amzn-Trace-Id"])
    assert passed["X-Amzn-Trace-Id"][7:15] == f"{int(1.7e9):08x}"
    assert passed["X-Forwarded-For"] == "10.9.9.9, 127.0.0.1"  # the client's address appended
    assert (passed["X-Forwarded-Port"], passed["X-Forwarded-Proto"]) == ("9000", "http")


@pytest.mark.parametrize(
    ("sent", "received", "received_first", "reported"),
    [
        ((1000, apigw.DELETED_REASON), (1000, ""), False, (1000, apigw.DELETED_REASON)),
        ((1009, "frame too big"), None, False, (1009, "frame too big")),  # no answer
        ((1000, ""), (4001, "bye"), True, (4001, "bye")),
        ((1005, ""), (1005, ""), True, (1005, apigw.NO_STATUS_REASON)),
        (None, (1001, "tab closed"), True, (1001, "tab closed")),
        (None, None, False, (1006, "")),  # cut: no close frame either way
    ],
)
def test_disconnect_status_is_the_first_closer_s(
    sent: apigw.Close | None,
    received: apigw.Close | None,
    received_first: bool,
    reported: apigw.Close,
) -> None:
    """https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-route-keys-connect-disconnect.html
    (the ``$disconnect`` route); the reasons are AWS's logged wording."""
    assert apigw.disconnect_status(sent, received, received_first) == reported
