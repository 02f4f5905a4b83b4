"""The ``$connect`` authorizer, live: real sockets refused at the upgrade or let in with
their identity in every route's ``requestContext.authorizer``.

Sources:
https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-lambda-auth.html,
https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-output.html
and
https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/apis-apiid-authorizers.html
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from websockets.sync.client import connect

from fanoutsim import Simulator
from fanoutsim.aws.authorizer import AuthorizerConfig
from fanoutsim.errors import ConnectRejected
from fanoutsim.functions import tokens


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(authorizer=True, denied_users=("mallory",)) as simulator:
        yield simulator


def _refused(sim: Simulator, query: str) -> int:
    with pytest.raises(ConnectRejected) as rejected:
        sim.clients.connect(query=query)
    return rejected.value.status


def _calls(sim: Simulator, function: str) -> list[dict]:
    return [i.event for i in sim.invocations() if i.function == function]


def test_no_bad_or_expired_token_is_401_and_a_denied_user_403(sim: Simulator) -> None:
    expired = tokens.mint("ana", sim._c.options.auth_secret, ttl_s=1, now=time.time() - 5)
    assert _refused(sim, "token=") == 401  # no token at all: the query value is empty
    assert _refused(sim, "token=forged.token") == 401
    assert _refused(sim, "token=%C3%A9.%C3%BC") == 401  # non-ASCII: 401, not the 500 it was
    assert _refused(sim, f"token={expired}") == 401
    assert _refused(sim, f"token={sim.mint_token('mallory')}") == 403
    assert sim.connections() == []  # no refused client left a row
    assert not _calls(sim, "on_connect")  # refused before the route ran


def test_the_context_reaches_connect_default_and_disconnect(sim: Simulator) -> None:
    client = sim.clients.connect(query=f"token={sim.mint_token('ana')}")
    assert client.ws is not None
    reply = sim._c.loop.run(sim._c.subscribers.request(client.name, {"action": "hello"}))
    assert reply["error"] == "unsupported message"
    sim.clients.leave(1)
    sim.wait("idle")
    for function in ("on_connect", "on_default", "on_disconnect"):
        (event,) = _calls(sim, function)
        context = event["requestContext"]["authorizer"]
        assert context["principalId"] == "ana" and context["userId"] == "ana"
        assert isinstance(context["integrationLatency"], int)


def test_the_simulators_own_clients_connect_with_minted_tokens(sim: Simulator) -> None:
    sim.clients.add(3)
    sim.flights.load()
    trace = sim.flights.publish("FS101", "DEPARTURE_DELAYED")
    sim.wait()
    assert all(trace in c.first_receipt for c in sim.clients.values())
    users = sorted(e["requestContext"]["authorizer"]["userId"] for e in _calls(sim, "on_connect"))
    assert users == sorted(sim.clients)


def test_a_bearer_header_works_from_any_websocket_client(sim: Simulator) -> None:
    headers = {"Authorization": f"Bearer {sim.mint_token('cli')}"}
    with connect(sim.endpoints["websocket"], additional_headers=headers) as ws:
        ws.send(json.dumps({"action": "subscribe", "flightIds": ["FS101"]}))
        assert json.loads(ws.recv(timeout=10)) == {"subscribed": ["FS101"]}


def test_a_cached_decision_skips_the_function_until_the_ttl_ends() -> None:
    config = AuthorizerConfig(identity_sources=("route.request.querystring.token",), ttl_s=300)
    with Simulator(authorizer=config) as sim:
        token = sim.mint_token("ana")
        for _ in range(3):
            sim.clients.connect(query=f"token={token}")
        assert len(_calls(sim, "authorizer")) == 1  # one identity, one call
        assert _refused(sim, "token=") == 401  # identity source empty: no call either
        assert len(_calls(sim, "authorizer")) == 1
