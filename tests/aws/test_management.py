"""The management API without I/O: its registry, its verdicts, and its errors' wire form
(checked through the real boto3 client, whose HTTP layer returns what we render).

AWS: https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-how-to-call-websocket-api-connections.html
and the management API reference,
https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/apis-apiid-stages-stagename-connections-connectionid.html
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from botocore.exceptions import ClientError

from fanoutsim.aws import apigw, management
from fanoutsim.aws.management import ConnectionRecord, ManagementApi
from fanoutsim.errors import ManagementError, ValidationError


def _record(connection_id: str = "abc=", label: str = "c1", open_: bool = True) -> ConnectionRecord:
    source = apigw.EventSource(connection_id, 1707502303419, "api", "prod", "h", "192.0.2.1", "ua")
    return ConnectionRecord(
        apigw.ConnectionId(connection_id), source, label, 1707502312104, lambda: open_
    )


def test_post_to_a_registered_connection_is_accepted_and_counted() -> None:
    api = ManagementApi()
    record = _record()
    api.connected(record)
    assert api.post("abc=", b"hi") is record
    assert api.snapshot()["posted"] == 1
    assert api.labels() == {"abc=": "c1"}


@pytest.mark.parametrize("state", ["unknown", "closing", "forgotten"])
def test_post_to_a_connection_that_is_not_open_is_gone(state: str) -> None:
    api = ManagementApi()
    if state == "closing":
        api.connected(_record(open_=False))
    elif state == "forgotten":
        api.connected(_record())
        assert api.forget("abc=") is not None
    with pytest.raises(ManagementError) as gone:
        api.post("abc=", b"hi")
    assert (gone.value.code, gone.value.status) == ("GoneException", 410)
    assert api.snapshot()["gone"] == 1 and api.snapshot()["posted"] == 0


def test_oversized_post_is_413_before_anything_else() -> None:
    api = ManagementApi()
    with pytest.raises(ManagementError) as large:
        api.post("never-registered=", b"x" * (apigw.MAX_PAYLOAD_BYTES + 1))
    assert (large.value.code, large.value.status) == ("PayloadTooLargeException", 413)
    assert api.snapshot()["gone"] == 0


def test_get_and_delete_answer_for_open_connections_only() -> None:
    api = ManagementApi()
    api.connected(_record())
    info = api.get("abc=")
    assert info["identity"] == {"sourceIp": "192.0.2.1", "userAgent": "ua"}
    assert api.delete("abc=").label == "c1"
    api.forget("abc=")
    for call in (api.get, api.delete):
        with pytest.raises(ManagementError, match="GoneException"):
            call("abc=")


# --- management API through the real boto3 client -----------------------------------------


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


@pytest.fixture
def answer() -> Iterator[tuple[Any, list[tuple[int, dict[str, str], bytes]]]]:
    """A real management API client whose HTTP layer returns the queued responses."""
    client = boto3.client(
        "apigatewaymanagementapi",
        endpoint_url="https://abcd123456.execute-api.eu-west-1.amazonaws.com/prod",
        region_name="eu-west-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"total_max_attempts": 1}),  # boto3 retries 429 by itself
    )
    queue: list[tuple[int, dict[str, str], bytes]] = []
    seen: list[str] = []

    def send(request: Any, **_: Any) -> AWSResponse:
        seen.append(request.url)
        status, headers, body = queue.pop(0)
        return AWSResponse(request.url, status, headers, _Raw(body))

    client.meta.events.register("before-send", send)
    yield client, queue
    assert all("/prod/@connections/" in url for url in seen)


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("GoneException", 410),
        ("PayloadTooLargeException", 413),
        ("LimitExceededException", 429),
        ("ForbiddenException", 403),
        ("BadRequestException", 400),
    ],
)
def test_management_errors_parse_as_their_code(answer: Any, code: str, status: int) -> None:
    client, queue = answer
    queue.append(management.wire(management.error(code, "nope"), request_id="req-1"))
    with pytest.raises(ClientError) as caught:
        client.post_to_connection(ConnectionId="abc=", Data=b"hi")
    error = caught.value.response
    assert error["Error"]["Code"] == code
    assert error["ResponseMetadata"]["HTTPStatusCode"] == status
    assert error["ResponseMetadata"]["RequestId"] == "req-1"
    if code != "BadRequestException":  # the only one absent from the service model
        assert isinstance(caught.value, getattr(client.exceptions, code))


def test_unknown_management_error_code() -> None:
    with pytest.raises(ValidationError):
        management.error("TeapotException", "no")


def test_connection_info_parses_into_datetimes(answer: Any) -> None:
    client, queue = answer
    body = management.connection_info(1707502303419, 1707502312104, "192.0.2.10", "ua/1")
    queue.append((200, {"Content-Type": "application/json"}, json.dumps(body).encode()))
    info = client.get_connection(ConnectionId="abc=")
    assert info["ConnectedAt"] == datetime(2024, 2, 9, 18, 11, 43, 419000, tzinfo=UTC)
    assert info["LastActiveAt"] == datetime(2024, 2, 9, 18, 11, 52, 104000, tzinfo=UTC)
    assert info["Identity"] == {"SourceIp": "192.0.2.10", "UserAgent": "ua/1"}
