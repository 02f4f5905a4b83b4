"""``fanoutsim serve`` as a script sees it: a subprocess whose first line is the endpoints
as JSON, every endpoint answering, and SIGTERM ending it with no port left open."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.request
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from fanoutsim.serve import banner, describe


def _free_port_block(size: int = 3) -> int:
    """A port P with P..P+size-1 free right now (bound and released)."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = int(probe.getsockname()[1])
        if base + size > 65533:
            continue
        sockets = []
        try:
            for offset in range(size):
                taken = socket.socket()
                sockets.append(taken)
                taken.bind(("127.0.0.1", base + offset))
            return base
        except OSError:
            continue
        finally:
            for taken in sockets:
                taken.close()
    raise RuntimeError("no free block of ports")


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _client(service: str, endpoint: str, info: dict[str, Any]) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=info["region"],
        aws_access_key_id=info["aws_access_key_id"],
        aws_secret_access_key=info["aws_secret_access_key"],
    )


def _serve(*args: str) -> subprocess.Popen[str]:
    """``fanoutsim serve --json ARGS`` in a child process with no AWS settings inherited."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return subprocess.Popen(
        [sys.executable, "-m", "fanoutsim", "serve", "--json", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_serve_json_endpoints_answer_and_sigterm_closes_every_port() -> None:
    port = _free_port_block()
    server = _serve("--port", str(port), "--interval", "0.05", "--clients", "1")
    try:
        assert server.stdout is not None
        info = json.loads(server.stdout.readline())
        assert info["websocket"] == f"ws://127.0.0.1:{port}/prod"
        assert info["management"] == f"http://127.0.0.1:{port + 1}/prod"
        assert info["aws"] == f"http://127.0.0.1:{port + 2}"
        with connect(info["websocket"]) as ws:  # a client of our own hears the scripted day
            operations = [json.loads(ws.recv(timeout=30))["operation"] for _ in range(8)]
            assert "UPDATE" in operations  # (CREATE ones first if it joined during the load)
        with urllib.request.urlopen(info["rest"] + "/flights") as answer:
            assert len(json.loads(answer.read())) == 6
        with urllib.request.urlopen(info["page"]) as answer:
            assert b"<html" in answer.read().lower()
        with pytest.raises(ClientError) as gone:
            _client("apigatewaymanagementapi", info["management"], info).get_connection(
                ConnectionId="nobody="
            )
        assert gone.value.response["Error"]["Code"] == "GoneException"
        events = _client("events", info["aws"], info)
        assert "flights.events" in [b["Name"] for b in events.list_event_buses()["EventBuses"]]
        tables = _client("dynamodb", info["aws"], info).list_tables()["TableNames"]
        assert set(tables) == {
            f"fanoutsim-{t}" for t in ("connections", "flights", "subscriptions")
        }
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(30)
        finally:
            server.kill()
    assert server.returncode == 0, server.stderr.read() if server.stderr else ""
    assert not any(_listening(port + offset) for offset in range(3))


def test_the_banner_shows_the_endpoints_and_the_seed_frontend_snippet() -> None:
    endpoints = {
        "websocket": "ws://127.0.0.1:9000/prod",
        "management": "http://127.0.0.1:9001/prod",
        "rest": "http://127.0.0.1:9001/prod",
        "page": "http://127.0.0.1:9001/",
        "aws": "http://127.0.0.1:9002",
    }
    text = banner(describe(endpoints, "us-east-1"))
    assert 'pattern3: { wssEndpoint: "ws://127.0.0.1:9000/prod" }' in text
    assert 'sharedEndpoint: "http://127.0.0.1:9001/prod"' in text
    assert "AWS_ACCESS_KEY_ID=testing" in text and "--endpoint-url" in text


def test_serve_per_flight_sends_a_client_only_the_flight_it_follows() -> None:
    server = _serve("--fanout", "per-flight", "--interval", "0.02", "--clients", "6")
    try:
        assert server.stdout is not None
        info = json.loads(server.stdout.readline())
        assert info["fanout"] == "per-flight"
        with connect(info["websocket"] + "?flightId=FS303") as ws:
            heard = [json.loads(ws.recv(timeout=30)) for _ in range(3)]
        assert {m["flightId"] for m in heard} == {"FS303"}
        assert any(m["operation"] == "UPDATE" for m in heard)
    finally:
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=30)
    assert server.returncode == 0


def test_serve_with_an_authorizer_prints_a_token_that_connects_and_refuses_none() -> None:
    server = _serve("--authorizer", "--interval", "0.05", "--updates", "3")
    try:
        assert server.stdout is not None
        info = json.loads(server.stdout.readline())
        with pytest.raises(InvalidStatus) as refused, connect(info["websocket"]):
            pass
        assert refused.value.response.status_code == 401
        with connect(f"{info['websocket']}?token={info['token']}") as ws:
            assert json.loads(ws.recv(timeout=30))["flightId"]
        assert "?token=<it>" in banner(info)
    finally:
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=30)
    assert server.returncode == 0


def test_serve_refuses_bad_arguments_with_a_message() -> None:
    for args in (["--updates", "-1"], ["--clients", "-5"], ["--interval", "0"], ["--port", "80"]):
        done = subprocess.run(
            [sys.executable, "-m", "fanoutsim", "serve", *args], capture_output=True, text=True
        )
        assert done.returncode == 2 and "must be" in done.stderr, (args, done.stderr)
