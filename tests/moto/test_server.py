"""The AWS endpoint's edge, before moto: signatures by the run's keys on loopback too (JSON
errors with AWS's codes, never moto's HTML page or a traceback on stderr), DynamoDB's batch
limits that moto lacks, a body bound checked before reading, and slow clients that cost a
bounded number of threads for a bounded time.

AWS pages: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html
(400 MissingAuthenticationTokenException, UnrecognizedClientException, ValidationException),
https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchWriteItem.html (at most
25 put or delete requests, 16 MB).
"""

from __future__ import annotations

import json
import socket
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from fanoutsim import stack
from fanoutsim.aws.sigv4 import SigningKeys
from fanoutsim.moto import server
from fanoutsim.simulator import Simulator


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(aws_endpoint=True) as simulator:
        yield simulator


def _dynamodb(sim: Simulator, key: str, secret: str) -> Any:
    return boto3.client(
        "dynamodb",
        endpoint_url=sim.endpoints["aws"],
        region_name=sim.options.region,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(retries={"total_max_attempts": 1}),
    )


def _error(call: Any) -> tuple[int, str]:
    with pytest.raises(ClientError) as refused:
        call()
    response = refused.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"]


def test_unsigned_and_made_up_keys_get_awss_json_errors_and_nothing_on_stderr(
    sim: Simulator, capfd: pytest.CaptureFixture[str]
) -> None:
    request = urllib.request.Request(
        sim.endpoints["aws"],
        data=b"{}",
        headers={"X-Amz-Target": "DynamoDB_20120810.Scan"},
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as unsigned:
        urllib.request.urlopen(request, timeout=10)
    assert unsigned.value.code == 400
    assert json.loads(unsigned.value.read())["__type"] == "MissingAuthenticationTokenException"
    stranger = _dynamodb(sim, "AKIAMADEUP", "made-up")
    assert _error(lambda: stranger.scan(TableName=stack.CONNECTIONS_TABLE)) == (
        400,
        "UnrecognizedClientException",
    )
    own = _dynamodb(sim, *sim.options.credentials)
    assert own.scan(TableName=stack.CONNECTIONS_TABLE)["Count"] == 0
    assert capfd.readouterr().err == ""


def test_batch_write_takes_at_most_25_requests_as_dynamodb_does(sim: Simulator) -> None:
    own = _dynamodb(sim, *sim.options.credentials)

    def puts(n: int) -> dict[str, Any]:
        rows = [{"PutRequest": {"Item": {"connectionId": {"S": f"c{i}"}}}} for i in range(n)]
        return {stack.CONNECTIONS_TABLE: rows}

    assert _error(lambda: own.batch_write_item(RequestItems=puts(26))) == (
        400,
        "ValidationException",
    )
    assert own.batch_write_item(RequestItems=puts(25))["UnprocessedItems"] == {}
    assert own.scan(TableName=stack.CONNECTIONS_TABLE)["Count"] == 25


def test_an_oversized_body_is_refused_before_it_is_read(sim: Simulator) -> None:
    port = int(sim.endpoints["aws"].rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        raw.sendall(
            b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 52428800\r\n"
            b"X-Amz-Target: DynamoDB_20120810.Scan\r\n\r\n"
        )  # 50 MB announced, none sent: the answer must not wait for it
        assert raw.recv(100).startswith(b"HTTP/1.1 413 ")


def test_slow_clients_hold_a_bounded_number_of_threads_for_a_bounded_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(server, "MAX_CONNECTIONS", 4)
    monkeypatch.setattr(server._QuietRequestHandler, "timeout", 3.0)
    endpoint = server.AwsEndpoint(
        "127.0.0.1", 0, lambda *_: None, server.Guard(SigningKeys({"k": "s"}), None)
    )
    try:
        # accepted in order: the four take the four slots before the fifth is looked at
        idle = [socket.create_connection(("127.0.0.1", endpoint.port)) for _ in range(4)]
        with socket.create_connection(("127.0.0.1", endpoint.port), timeout=5) as fifth:
            assert fifth.recv(100).startswith(b"HTTP/1.1 503 ")
        for sock in idle:  # dropped after the idle timeout, freeing their slots
            sock.settimeout(10)
            assert sock.recv(100) == b""
            sock.close()
        with socket.create_connection(("127.0.0.1", endpoint.port), timeout=5) as again:
            again.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            assert again.recv(100).startswith(b"HTTP/1.1 400 ")  # unsigned: served again
    finally:
        endpoint.stop()
