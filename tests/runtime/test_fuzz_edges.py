"""Fuzzing the network edges of a live simulator with hypothesis: arbitrary WebSocket
frames from one client, arbitrary requests on the HTTP port (methods, paths, headers,
bodies; raw bytes, so nothing is tidied up first), arbitrary PutEvents entries.

Invariants, after every example: the process answers, only documented statuses and close
codes come back, a well-behaved client still receives every update, and when everyone
leaves no connection row is left. ``FANOUTSIM_FUZZ_EXAMPLES`` sets the examples per edge
(40 here; ``python bench/fuzz_edges.py`` runs thousands).

Sources:
https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-how-to-call-websocket-api-connections.html
(the @connections verbs and their answers) and
https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEvents.html
(each entry succeeds or fails on its own).
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from fanoutsim import Simulator, stack
from fanoutsim.functions import flight_model

EXAMPLES = int(os.environ.get("FANOUTSIM_FUZZ_EXAMPLES", "40"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,  # the same examples every run: a failure reproduces
)
#: What the HTTP side may answer (AWS's @connections verdicts and HTTP's own limits).
HTTP_STATUSES = {200, 204, 400, 403, 404, 405, 408, 410, 411, 413, 414, 429, 431, 501, 503}
#: How a hostile client may be closed: normal, protocol error, binary (unsupported), bad
#: UTF-8, policy, too big.
CLOSE_CODES = {1000, 1002, 1003, 1007, 1008, 1009}


@pytest.fixture(scope="module")
def live() -> Iterator[tuple[Simulator, object]]:
    with Simulator() as sim:
        sim.flights.load()
        watcher = sim.clients.add(1)[0]
        yield sim, watcher
        sim.clients.leave(list(sim.clients))
        sim.wait("idle")
        assert sim.connections() == []  # nothing left after everyone leaves


def _still_served(sim: Simulator, watcher: object) -> None:
    trace = sim.flights.publish("FS101", "BOARDING", "still here")
    sim.wait(timeout=30)
    assert trace in watcher.first_receipt  # type: ignore[attr-defined]


frames = st.one_of(
    st.text(max_size=300),
    st.binary(max_size=300),
    st.builds(
        json.dumps,
        st.fixed_dictionaries(
            {"action": st.one_of(st.text(max_size=20), st.sampled_from(["subscribe", "$default"]))},
            optional={"flightIds": st.lists(st.text(max_size=12), max_size=5)},
        ),
    ),
)


@FUZZ
@given(batch=st.lists(frames, min_size=1, max_size=5))
def test_arbitrary_frames_cost_only_their_sender(live: tuple[Simulator, object], batch) -> None:  # type: ignore[no-untyped-def]
    sim, watcher = live
    with connect(sim.endpoints["websocket"], open_timeout=10, max_size=None) as ws:
        try:
            for frame in batch:
                ws.send(frame)
            ws.send("{}")  # one more, to read what the connection says now
            ws.recv(timeout=10)
        except ConnectionClosed as closed:
            assert closed.rcvd is None or closed.rcvd.code in CLOSE_CODES, closed
        except TimeoutError:
            pass  # a message that earns no answer is allowed
    _still_served(sim, watcher)


methods = st.sampled_from(["GET", "POST", "DELETE", "PUT", "PATCH", "HEAD", "OPTIONS", "BREW"])
paths = st.one_of(
    st.builds(lambda i: f"/prod/@connections/{i}", st.text(max_size=30)),
    st.sampled_from(["/prod/flights", "/", "/config.json", "/prod/@connections/../../etc"]),
    st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), max_size=60),
)
header_lines = st.lists(
    st.tuples(
        st.text(
            alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=20
        ),
        st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40),
    ),
    max_size=6,
)


@FUZZ
@given(method=methods, path=paths, headers=header_lines, body=st.binary(max_size=2000))
def test_arbitrary_requests_get_documented_answers(  # type: ignore[no-untyped-def]
    live: tuple[Simulator, object], method, path, headers, body
) -> None:
    sim, watcher = live
    where = urlsplit(sim.endpoints["management"])
    lines = [f"{method} {path.replace(' ', '%20') or '/'} HTTP/1.1", f"Host: {where.netloc}"]
    lines += [f"{name.replace(':', '')}: {value}" for name, value in headers]
    lines += [f"Content-Length: {len(body)}", "Connection: close"]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
    with socket.create_connection((where.hostname, where.port), timeout=10) as raw:
        raw.sendall(request)
        answer = raw.recv(65536)
    if answer:  # a request the server cannot frame may be closed without an answer
        status_line = answer.split(b"\r\n", 1)[0].decode("latin-1")
        assert status_line.startswith("HTTP/1.1 "), status_line
        assert int(status_line.split()[1]) in HTTP_STATUSES, status_line
    _still_served(sim, watcher)


entries = st.fixed_dictionaries(
    {
        "Source": st.one_of(st.text(max_size=30), st.just(flight_model.EVENT_SOURCE)),
        "DetailType": st.one_of(
            st.text(max_size=30),
            st.sampled_from([flight_model.STATUS_UPDATED, flight_model.NEW_FLIGHT]),
        ),
        "Detail": st.one_of(
            st.text(max_size=200),
            st.builds(
                json.dumps, st.dictionaries(st.text(max_size=10), st.text(max_size=20), max_size=4)
            ),
        ),
        "EventBusName": st.just(stack.BUS),
    }
)


@FUZZ
@given(batch=st.lists(entries, min_size=1, max_size=10))
def test_arbitrary_entries_fail_one_by_one(live: tuple[Simulator, object], batch) -> None:  # type: ignore[no-untyped-def]
    sim, watcher = live
    answer = sim.flights.put_events(batch)
    assert len(answer["Entries"]) == len(batch)
    failed = [e for e in answer["Entries"] if "ErrorCode" in e]
    assert answer["FailedEntryCount"] == len(failed)
    assert all(e.get("ErrorMessage") for e in failed)
    sim.wait("idle", timeout=60)
    _still_served(sim, watcher)


def test_a_body_that_is_not_text_reaches_the_rest_function_base64(
    live: tuple[Simulator, object],
) -> None:
    """Found by the fuzzer: GET /flights with a non-UTF-8 body answered 500. API Gateway
    passes such a body base64-encoded (``isBase64Encoded: true``); the function answers."""
    sim, _ = live
    where = urlsplit(sim.endpoints["management"])
    with socket.create_connection((where.hostname, where.port), timeout=10) as raw:
        raw.sendall(
            f"GET /prod/flights HTTP/1.1\r\nHost: {where.netloc}\r\nContent-Length: 1\r\n"
            "Connection: close\r\n\r\n".encode()
            + b"\x80"
        )
        answer = raw.recv(65536)
    assert answer.startswith(b"HTTP/1.1 200 ")
