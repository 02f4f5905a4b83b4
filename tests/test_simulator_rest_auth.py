"""``GET /flights`` with IAM authorisation, as the seed's REST API has it (``AWS_IAM``):
signed with the run's keys it answers, unsigned or signed with other keys or for another
region it is refused with 403 before the function runs; without the option the board
stays open to anyone (the page reads it unsigned).

Source:
https://docs.aws.amazon.com/apigateway/latest/developerguide/permissions.html
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from fanoutsim import Simulator
from fanoutsim.errors import ConfigError


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(rest_auth="iam") as simulator:
        simulator.flights.load()
        yield simulator


def _get(url: str, keys: tuple[str, str] | None, region: str) -> tuple[int, str, object]:
    """Status, ``x-amzn-ErrorType`` and JSON body of a GET, signed with ``keys`` if any."""
    headers = {}
    if keys is not None:
        request = AWSRequest("GET", url)
        SigV4Auth(Credentials(*keys), "execute-api", region).add_auth(request)
        headers = dict(request.headers.items())
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers)) as answer:
            return answer.status, "", json.loads(answer.read())
    except urllib.error.HTTPError as refused:
        return refused.code, refused.headers["x-amzn-ErrorType"], json.loads(refused.read())


def _runs(sim: Simulator) -> int:
    return sum(1 for i in sim.invocations() if i.function == "get_flights")


def test_signed_with_the_run_s_keys_it_answers_and_otherwise_refuses(sim: Simulator) -> None:
    url = sim.endpoints["rest"] + "/flights"
    key, secret = sim.options.credentials
    status, _, flights = _get(url, (key, secret), sim.options.region)
    assert status == 200 and isinstance(flights, list) and len(flights) == 6
    runs = _runs(sim)
    for keys, region, code in [
        (None, sim.options.region, "ForbiddenException"),  # "Missing Authentication Token"
        (("AKIDSOMEONEELSE", "secret"), sim.options.region, "UnrecognizedClientException"),
        ((key, "not the secret"), sim.options.region, "InvalidSignatureException"),
        ((key, secret), "us-west-2", "InvalidSignatureException"),
    ]:
        status, error_type, body = _get(url, keys, region)
        assert (status, error_type) == (403, code), (keys, region)
        assert isinstance(body, dict) and body["message"]
    assert _runs(sim) == runs  # refused before the function ran


def test_without_iam_anyone_reads_the_board() -> None:
    with Simulator() as open_sim:
        open_sim.flights.load()
        status, _, flights = _get(
            open_sim.endpoints["rest"] + "/flights", None, open_sim.options.region
        )
    assert status == 200 and isinstance(flights, list) and len(flights) == 6


def test_an_unknown_auth_mode_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="rest_auth must be 'none' or 'iam'"):
        Simulator(rest_auth="cognito")  # type: ignore[arg-type]
