"""Both management transports render the same verdicts of the same pure API, so boto3
raises the same ``ClientError`` over HTTP and in-process; accepted posts reach the socket
side. Driven with a fake socket side: no WebSocket server, no simulator.

AWS: https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-how-to-call-websocket-api-connections.html
(410 GoneException for a closed connection; 413 over the 128 KB quota).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from fanoutsim.aws import apigw, management
from fanoutsim.aws.management import ConnectionRecord, ManagementApi
from fanoutsim.aws.sigv4 import SigningKeys
from fanoutsim.feed import Feed
from fanoutsim.runtime.gateway_http import GatewayHttp
from fanoutsim.runtime.http_server import HttpServer
from fanoutsim.runtime.inprocess import InProcessTransport
from fanoutsim.runtime.loop_thread import LoopThread
from tests.runtime.fakes import runtime


class FakeSockets:
    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes]] = []
        self.closed: list[str] = []

    def send(self, record: ConnectionRecord, data: bytes) -> None:
        self.sent.append((record.label, data))

    async def close_connection(self, record: ConnectionRecord) -> None:
        self.closed.append(record.label)


def _record(connection_id: str, label: str) -> ConnectionRecord:
    source = apigw.EventSource(connection_id, 1707502303419, "api", "prod", "h", "10.0.0.1", "ua")
    return ConnectionRecord(apigw.ConnectionId(connection_id), source, label, 1707502303419)


@pytest.fixture
def stage() -> Iterator[tuple[ManagementApi, FakeSockets, str]]:
    """An HTTP management endpoint over a pure API with one open connection ``abc=``."""
    api, sockets, loop = ManagementApi(), FakeSockets(), LoopThread("test-http")
    api.connected(_record("abc=", "c1"))
    functions = runtime({}, Feed())
    keys = KEYS
    http = GatewayHttp(
        api, sockets, functions, stage="prod", rest_routes={}, endpoints=dict, keys=keys
    )
    server = HttpServer(http.handle)
    loop.run(server.start())
    try:
        yield api, sockets, f"http://127.0.0.1:{server.port}/prod"
    finally:
        loop.run(server.close())
        loop.stop()
        functions.close()


KEYS = SigningKeys({"testing": "testing"}, region="us-east-1")


def _client(
    endpoint: str, key: str = "testing", secret: str = "testing", region: str = "us-east-1"
) -> Any:
    return boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(retries={"total_max_attempts": 1}),
    )


def _outcomes(client: Any) -> list[str]:
    answers = []
    for connection_id, data in (
        ("abc=", b'{"n": 1}'),
        ("nobody=", b"x"),
        ("abc=", b"x" * (apigw.MAX_PAYLOAD_BYTES + 1)),
    ):
        try:
            client.post_to_connection(ConnectionId=connection_id, Data=data)
            answers.append("200")
        except ClientError as error:
            status = error.response["ResponseMetadata"]["HTTPStatusCode"]
            answers.append(f"{status} {error.response['Error']['Code']}")
    return answers


EXPECTED = ["200", "410 GoneException", "413 PayloadTooLargeException"]


def test_http_transport_renders_the_verdicts(stage: tuple[ManagementApi, FakeSockets, str]) -> None:
    api, sockets, endpoint = stage
    assert _outcomes(_client(endpoint)) == EXPECTED
    assert sockets.sent == [("c1", b'{"n": 1}')]
    assert api.snapshot()["posted"] == 1 and api.snapshot()["gone"] == 1


def test_in_process_transport_renders_the_same_verdicts_without_http(
    stage: tuple[ManagementApi, FakeSockets, str],
) -> None:
    api, sockets, endpoint = stage
    sent_in_process: list[tuple[str, bytes]] = []
    transport = InProcessTransport(
        api, lambda record, data: sent_in_process.append((record.label, data)), endpoint, KEYS
    )
    transport.install()
    try:
        assert _outcomes(_client(endpoint)) == EXPECTED
    finally:
        transport.uninstall()
    assert sent_in_process == [("c1", b'{"n": 1}')]
    assert sockets.sent == []  # nothing went over HTTP
    assert _outcomes(_client(endpoint))[0] == "200"  # uninstalled: HTTP again
    assert sockets.sent == [("c1", b'{"n": 1}')]


def test_http_get_and_delete_go_through_the_api(
    stage: tuple[ManagementApi, FakeSockets, str],
) -> None:
    api, sockets, endpoint = stage
    client = _client(endpoint)
    info = client.get_connection(ConnectionId="abc=")
    assert info["Identity"] == {"SourceIp": "10.0.0.1", "UserAgent": "ua"}
    client.delete_connection(ConnectionId="abc=")
    assert sockets.closed == ["c1"]
    api.forget("abc=")
    with pytest.raises(ClientError, match="GoneException"):
        client.get_connection(ConnectionId="abc=")


def test_injected_faults_reach_boto3_as_server_errors(
    stage: tuple[ManagementApi, FakeSockets, str],
) -> None:
    api, _, endpoint = stage
    api.chaos = lambda _id: management.error("InternalServerErrorException", "injected", 503)
    with pytest.raises(ClientError) as failure:
        _client(endpoint).post_to_connection(ConnectionId="abc=", Data=b"x")
    assert failure.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    assert api.snapshot()["failed"] == 1


def _refusal(client: Any) -> str:
    try:
        client.post_to_connection(ConnectionId="abc=", Data=b"x")
    except ClientError as error:
        status = error.response["ResponseMetadata"]["HTTPStatusCode"]
        return f"{status} {error.response['Error']['Code']}"
    return "200"


def test_wrong_keys_get_the_same_403_in_process_as_over_http(
    stage: tuple[ManagementApi, FakeSockets, str],
) -> None:
    """aws/management.py promises one answer whichever way the post travels: the in-process
    transport checks the caller's keys and region as a signature by them would be."""
    api, sockets, endpoint = stage
    callers = {
        "stranger": _client(endpoint, key="AKIDSTRANGER"),
        "wrong secret": _client(endpoint, secret="guessed"),
        "other region": _client(endpoint, region="eu-west-1"),
    }
    over_http = {name: _refusal(client) for name, client in callers.items()}
    transport = InProcessTransport(api, lambda record, data: None, endpoint, KEYS)
    transport.install()
    try:
        callers = {  # clients made after install carry its hook
            "stranger": _client(endpoint, key="AKIDSTRANGER"),
            "wrong secret": _client(endpoint, secret="guessed"),
            "other region": _client(endpoint, region="eu-west-1"),
        }
        in_process = {name: _refusal(client) for name, client in callers.items()}
    finally:
        transport.uninstall()
    assert (
        over_http
        == in_process
        == {
            "stranger": "403 UnrecognizedClientException",
            "wrong secret": "403 InvalidSignatureException",
            "other region": "403 InvalidSignatureException",
        }
    )
    assert sockets.sent == [] and api.snapshot()["posted"] == 0
