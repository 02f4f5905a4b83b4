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
from tests.sample_ids import FS303


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


def _stop(server: subprocess.Popen[str]) -> None:
    """SIGTERM, as a supervisor would send; kill only if it does not end in 30 s."""
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(30)
    finally:
        server.kill()


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
        _stop(server)
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
        with connect(info["websocket"] + f"?flightId={FS303}") as ws:
            heard = [json.loads(ws.recv(timeout=30)) for _ in range(3)]
        assert {m["flightId"] for m in heard} == {FS303}
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


def test_a_port_in_use_is_one_sentence_naming_the_ports_serve_needs() -> None:
    port = _free_port_block()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port + 1))
        taken.listen()
        done = subprocess.run(
            [sys.executable, "-m", "fanoutsim", "serve", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert lines == [
        f"fanoutsim: --port {port}: serve needs ports {port}, {port + 1} and {port + 2} "
        f"(WebSocket, HTTP, AWS endpoint) and {port + 1} is in use; choose another --port, "
        "or leave it out for free ports"
    ]


def test_every_interface_is_never_advertised_as_0_0_0_0() -> None:
    """Bound to every interface, what is printed is an address another device can dial (or,
    on a machine with none, a sentence saying to pass --public-host). Nothing connects to
    the advertised address: the test reads what serve prints and stops it."""
    server = _serve("--host", "0.0.0.0", "--updates", "0", "--room")
    try:
        assert server.stdout is not None and server.stderr is not None
        first = server.stdout.readline()
        if not first:  # no address here but loopback
            server.wait(30)
            assert server.returncode == 2 and "--public-host" in server.stderr.read()
            return
        info = json.loads(first)
        advertised = [
            v for k, v in info.items() if k in ("websocket", "rest", "page", "aws", "room")
        ]
        assert len(advertised) == 5 and not any("0.0.0.0" in v for v in advertised)
        assert info["room"].endswith("/room")
        assert info["aws_access_key_id"] != "testing"
    finally:
        _stop(server)


def test_a_public_host_is_what_every_endpoint_names() -> None:
    server = _serve(
        "--room", "--host", "127.0.0.2", "--public-host", "laptop.local", "--updates", "0"
    )
    try:
        assert server.stdout is not None
        info = json.loads(server.stdout.readline())
        for key in ("websocket", "rest", "page", "aws", "room"):
            assert "//laptop.local:" in info[key], (key, info[key])
    finally:
        _stop(server)


def test_the_room_banner_carries_the_address_and_a_qr_code() -> None:
    info = describe(
        {
            "websocket": "ws://192.168.1.20:9000/prod",
            "management": "http://192.168.1.20:9001/prod",
            "rest": "http://192.168.1.20:9001/prod",
            "page": "http://192.168.1.20:9001/",
            "aws": "http://192.168.1.20:9002",
            "room": "http://192.168.1.20:9001/room",
        },
        "us-east-1",
        ("AKFSEXAMPLE", "s3cret"),
    )
    text = banner(info)
    assert "room: http://192.168.1.20:9001/room" in text
    qr_rows = [line for line in text.splitlines() if set(line) <= set("█▀▄ ") and len(line) > 20]
    assert len(qr_rows) >= 12  # a version-2 code or larger, with its quiet zone
