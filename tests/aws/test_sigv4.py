"""Management calls are checked for a valid SigV4 signature, with botocore's signer.

AWS page this module checks:

- https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-how-to-call-websocket-api-connections.html
- https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-troubleshooting.html
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from fanoutsim.aws import sigv4
from fanoutsim.aws.sigv4 import SigningKeys
from fanoutsim.errors import ManagementError
from fanoutsim.simulator import Simulator


def _client(sim: Simulator, key: str, secret: str) -> Any:
    return boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=sim.endpoints["management"],
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(retries={"total_max_attempts": 1}),
    )


def _code(call: Any) -> str:
    with pytest.raises(ClientError) as refused:
        call()
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    return str(refused.value.response["Error"]["Code"])


def test_signed_calls_pass_forged_and_unknown_keys_are_refused_with_403() -> None:
    with Simulator(credentials=("AKIDWORKSHOP", "s3cret")) as sim:
        sim.add_clients(1)
        connection_id = sim.connections()[0]["connectionId"]
        good = _client(sim, "AKIDWORKSHOP", "s3cret")
        good.post_to_connection(ConnectionId=connection_id, Data=b'{"hello": 1}')
        forged = _client(sim, "AKIDWORKSHOP", "guessed")
        post = {"ConnectionId": connection_id, "Data": b'{"hello": 2}'}
        assert _code(lambda: forged.post_to_connection(**post)) == "InvalidSignatureException"
        stranger = _client(sim, "testing", "testing")
        assert _code(lambda: stranger.post_to_connection(**post)) == "UnrecognizedClientException"
        assert sim.report().to_dict()["deliveries"]["posted"] == 1


def test_a_signature_more_than_5_minutes_off_the_clock_is_refused() -> None:
    request = AWSRequest("GET", "http://127.0.0.1:9/prod/@connections/abc%3D", {}, b"")
    SigV4Auth(Credentials("testing", "testing"), "execute-api", "us-east-1").add_auth(request)
    headers = {k.lower(): v for k, v in request.headers.items()} | {"host": "127.0.0.1:9"}
    keys = SigningKeys({"testing": "testing"})
    call = {"method": "GET", "url": request.url, "headers": headers, "body": b""}
    assert sigv4.verify(keys, **call) == "testing"
    for skew in (timedelta(minutes=6), -timedelta(minutes=6)):
        with pytest.raises(ManagementError, match="Signature expired") as stale:
            sigv4.verify(keys, **call, now=datetime.now(UTC) + skew)
        assert (stale.value.code, stale.value.status) == ("InvalidSignatureException", 403)
    with pytest.raises(ManagementError, match="Missing Authentication Token"):
        sigv4.verify(keys, **{**call, "headers": {"host": "127.0.0.1:9"}})


def test_the_pipelines_own_posts_are_signed_with_the_configured_keys() -> None:
    with Simulator(credentials=("AKIDPIPE", "other")) as sim:
        sim.add_clients(2)
        sim.load_flights()
        assert sim.report().to_dict()["deliveries"]["missing"] == 0
