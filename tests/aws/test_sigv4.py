"""Management calls are checked for a valid SigV4 signature, with botocore's signer.

AWS page this module checks:

- https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-how-to-call-websocket-api-connections.html
- https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-troubleshooting.html
"""

from __future__ import annotations

import hashlib
import random
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
        sim.clients.add(1)
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
        sim.clients.add(2)
        sim.flights.load()
        assert sim.report().to_dict()["deliveries"]["missing"] == 0


def _signed(region: str, body: bytes, payload_header: str | None = None) -> dict[str, Any]:
    """A POST signed for ``region``; with ``payload_header`` the client signs that value as
    X-Amz-Content-SHA256 (as some SDKs do) instead of the body's hash."""
    headers = {} if payload_header is None else {"X-Amz-Content-SHA256": payload_header}
    request = AWSRequest("POST", "http://127.0.0.1:9/prod/@connections/abc%3D", headers, body)
    SigV4Auth(Credentials("testing", "testing"), "execute-api", region).add_auth(request)
    signed = {k.lower(): v for k, v in request.headers.items()} | {"host": "127.0.0.1:9"}
    return {"method": "POST", "url": request.url, "headers": signed, "body": body}


def test_a_signature_for_another_region_is_refused() -> None:
    keys = SigningKeys({"testing": "testing"}, region="us-east-1")
    assert sigv4.verify(keys, **_signed("us-east-1", b"{}")) == "testing"
    with pytest.raises(ManagementError, match="scoped to a valid region") as other:
        sigv4.verify(keys, **_signed("eu-west-1", b"{}"))
    assert other.value.code == "InvalidSignatureException"


def test_the_signed_payload_hash_must_be_the_bodys() -> None:
    keys = SigningKeys({"testing": "testing"}, region="us-east-1")
    body_a, body_b = b'{"a": 1}', b'{"b": 2}'
    honest = _signed("us-east-1", body_a, hashlib.sha256(body_a).hexdigest())
    assert sigv4.verify(keys, **honest) == "testing"
    for claimed in (hashlib.sha256(body_a).hexdigest(), "UNSIGNED-PAYLOAD"):
        swapped = {**_signed("us-east-1", body_a, claimed), "body": body_b}
        with pytest.raises(ManagementError, match="x-amz-content-sha256") as refused:
            sigv4.verify(keys, **swapped)
        assert refused.value.code == "InvalidSignatureException"


def test_a_client_configured_for_another_region_is_refused_by_the_stage() -> None:
    with Simulator() as sim:
        sim.clients.add(1)
        connection_id = sim.connections()[0]["connectionId"]
        elsewhere = boto3.client(
            "apigatewaymanagementapi",
            endpoint_url=sim.endpoints["management"],
            region_name="eu-west-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(retries={"total_max_attempts": 1}),
        )
        post = {"ConnectionId": connection_id, "Data": b"{}"}
        assert _code(lambda: elsewhere.post_to_connection(**post)) == "InvalidSignatureException"


def _botocore_signature(
    method: str,
    url: str,
    headers: dict[str, str],
    body: bytes,
    secret: str,
    region: str,
    stamp: str,
) -> tuple[str, str]:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest(method, url, headers, body)
    request.context["timestamp"] = stamp
    signer = SigV4Auth(Credentials("AKID", secret), "execute-api", region)
    canonical = signer.canonical_request(request)
    return canonical, signer.signature(signer.string_to_sign(request, canonical), request)


def test_the_signature_is_botocores_over_a_corpus_of_requests() -> None:
    """Canonical request and signature as botocore's signer makes them, for paths with
    encoded and dot segments, repeated slashes, sorted and repeated query pairs, header
    values with runs of spaces, several secrets, regions and days (the derived key cached):
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv4-create-signed-request.html"""
    from fanoutsim.aws.sigv4 import canonical_request, signature

    rng = random.Random(7)
    pieces = ["prod", "@connections", "a%3D", "b%2Fc", "x~y", "..", ".", "", "é", "%E2%9C%93"]
    keys = ["b", "a", "a", "x-y", "k%20", "z"]
    calls = [
        ("s3cr3t", "us-east-1", "20261206T070000Z"),
        ("other/secret+", "eu-west-1", "20261207T235959Z"),
        ("s3cr3t", "us-east-1", "20261206T080000Z"),  # same day: the cached key
    ]
    for i in range(300):
        secret, region, stamp = calls[i % len(calls)]
        path = "/" + "/".join(rng.choice(pieces) for _ in range(rng.randint(0, 5)))
        pairs = [f"{rng.choice(keys)}={rng.choice(['1', '', 'v%2B', 'a b'.replace(' ', '%20')])}"]
        query = "&".join(pairs * rng.randint(0, 2) + [f"n={i}"] * rng.randint(0, 1))
        url = f"http://h:9001{path}" + (f"?{query}" if query else "")
        headers = {
            "host": "h:9001",
            "x-amz-date": stamp,
            "content-type": rng.choice(["application/json", "  text/plain ;  charset=utf-8 "]),
        }
        body = rng.randbytes(rng.randint(0, 64))
        expected_canonical, expected = _botocore_signature(
            "POST", url, headers, body, secret, region, stamp
        )
        canonical = canonical_request("POST", url, headers, body)
        assert canonical == expected_canonical, url
        assert signature(secret, region, "execute-api", stamp, canonical) == expected


def test_only_short_paths_are_kept_in_canonical_form() -> None:
    """A signed request with a long path is verified the same, without growing the cache."""
    sigv4._kept_path.cache_clear()
    long_path = "/prod/@connections/" + "a%3D" * 80
    assert sigv4._canonical_path(long_path) == sigv4._path_form(long_path)
    assert sigv4._kept_path.cache_info().currsize == 0
    sigv4._canonical_path("/prod/@connections/a%3D")
    assert sigv4._kept_path.cache_info().currsize == 1
