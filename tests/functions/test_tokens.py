"""Connection tokens and the ``$connect`` authorizer handler (pure: no stack)."""

from __future__ import annotations

import pytest

from fanoutsim.errors import ValidationError
from fanoutsim.functions import authorizer, tokens

SECRET = "k" * 32
ARN = "arn:aws:execute-api:us-east-1:123456789012:fanoutsim/prod/$connect"


def test_a_minted_token_verifies_to_its_user_and_expiry() -> None:
    token = tokens.mint("ana", SECRET, ttl_s=60, now=1_000)
    assert tokens.verify(token, SECRET, now=1_059) == tokens.Claims("ana", 1_060)


@pytest.mark.parametrize(
    ("token", "now"),
    [
        (tokens.mint("ana", SECRET, ttl_s=60, now=1_000), 1_060),  # expired at its second
        (tokens.mint("ana", "other secret", ttl_s=60, now=1_000), 1_001),  # forged
        (tokens.mint("ana", SECRET, ttl_s=60, now=1_000) + "x", 1_001),  # tampered
        ("no-dot", 1_001),
        ("e30.", 1_001),  # {} with no signature
    ],
)
def test_expired_forged_and_malformed_tokens_are_refused(token: str, now: int) -> None:
    with pytest.raises(tokens.InvalidToken):
        tokens.verify(token, SECRET, now=now)


def test_a_payload_signed_right_but_without_claims_is_refused() -> None:
    payload = tokens._b64(b'{"sub": 7}')
    with pytest.raises(tokens.InvalidToken):
        tokens.verify(f"{payload}.{tokens._signature(payload, SECRET)}", SECRET)


@pytest.mark.parametrize(("user", "ttl"), [("", 60), ("a b", 60), ("x" * 65, 60), ("ana", 0)])
def test_bad_users_and_lifetimes_are_not_minted(user: str, ttl: int) -> None:
    with pytest.raises(ValidationError):
        tokens.mint(user, SECRET, ttl_s=ttl)


def _event(query: dict[str, str] | None = None, headers: dict[str, str] | None = None) -> dict:
    return {"methodArn": ARN, "queryStringParameters": query, "headers": headers or {}}


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.setenv("AUTH_SECRET", SECRET)
    monkeypatch.setenv("DENIED_USERS", "mallory, eve")
    return monkeypatch


def test_the_token_comes_from_the_query_or_a_bearer_header(env: pytest.MonkeyPatch) -> None:
    token = tokens.mint("ana", SECRET)
    for event in (_event({"token": token}), _event(headers={"authorization": f"Bearer {token}"})):
        result = authorizer.handler(event, None)
        assert result["principalId"] == "ana"
        assert result["policyDocument"]["Statement"] == [
            {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": ARN}
        ]
        assert result["context"]["userId"] == "ana"


def test_no_or_a_bad_token_raises_unauthorized(env: pytest.MonkeyPatch) -> None:
    for event in (_event(), _event({"token": "forged.sig"})):
        with pytest.raises(Exception, match=r"^Unauthorized$"):
            authorizer.handler(event, None)


def test_a_denied_user_gets_a_deny_policy(env: pytest.MonkeyPatch) -> None:
    result = authorizer.handler(_event({"token": tokens.mint("eve", SECRET)}), None)
    assert result["policyDocument"]["Statement"][0]["Effect"] == "Deny"


def test_a_token_with_non_ascii_characters_is_invalid_not_an_error() -> None:
    """The authorizer answers 401 for it, not 500 (compare_digest refuses non-ASCII text)."""
    with pytest.raises(tokens.InvalidToken):
        tokens.verify("é.ü", SECRET)
