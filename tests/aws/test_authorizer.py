"""API Gateway's side of a WebSocket ``$connect`` REQUEST authorizer.

Sources:
https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-lambda-auth.html
(input event, methodArn ending in $connect),
https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-output.html
(policy output, Unauthorized is 401, Deny is 403, context values),
https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/apis-apiid-authorizers.html
(identity sources must be present or 401 without a call; TTL for HTTP APIs only).
"""

from __future__ import annotations

from typing import Any

import pytest

from fanoutsim.aws import authorizer
from fanoutsim.aws.authorizer import AuthorizerCache, AuthorizerConfig, Decision
from fanoutsim.errors import ConfigError
from fanoutsim.functions.authorizer import policy

ARN = authorizer.method_arn("us-east-1", "123456789012", "api1", "prod")


def test_the_method_arn_ends_with_connect() -> None:
    assert ARN == "arn:aws:execute-api:us-east-1:123456789012:api1/prod/$connect"


def test_identity_needs_every_source_present_and_non_empty() -> None:
    sources = ("route.request.header.Authorization", "route.request.querystring.room")
    assert authorizer.identity(sources, {"authorization": "t"}, {"room": "r"}) == ("t", "r")
    assert authorizer.identity(sources, {"Authorization": "t"}, {"room": ""}) is None
    assert authorizer.identity(sources, {}, {"room": "r"}) is None
    assert authorizer.identity((), {}, None) == ()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"identity_sources": ("$request.header.Auth",)},
        {"ttl_s": 3601, "identity_sources": ("route.request.querystring.token",)},
        {"ttl_s": 60},  # nothing to key the cache on
    ],
)
def test_bad_configurations_are_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        AuthorizerConfig(**kwargs)


def test_the_event_is_the_connect_request_with_type_and_method_arn() -> None:
    connect = {"headers": {"Host": "h"}, "requestContext": {"routeKey": "$connect"}, "body": "x"}
    event = authorizer.authorizer_event(connect, ARN)
    assert event["type"] == "REQUEST" and event["methodArn"] == ARN
    assert event["headers"] == {"Host": "h"} and "body" not in event


def test_allow_deny_and_failures_map_to_the_statuses_api_gateway_answers() -> None:
    allow = policy("ana", "Allow", ARN, {"userId": "ana", "n": 1, "ok": True})
    decision = authorizer.decide(True, None, allow, ARN)
    assert decision == Decision(200, "ana", {"userId": "ana", "n": 1, "ok": True})
    assert authorizer.decide(True, None, policy("e", "Deny", ARN, {}), ARN).status == 403
    assert authorizer.decide(False, "Exception: Unauthorized", None, ARN).status == 401
    assert authorizer.decide(False, "KeyError: 'AUTH_SECRET'", None, ARN).status == 500
    assert authorizer.decide(True, None, {"principalId": "x"}, ARN).status == 500
    nested = policy("ana", "Allow", ARN, {"roles": ["a"]})
    assert authorizer.decide(True, None, nested, ARN).status == 500


def test_an_allow_for_another_resource_is_forbidden_and_wildcards_match() -> None:
    other = policy("ana", "Allow", ARN.replace("prod", "dev"), {})
    assert authorizer.decide(True, None, other, ARN).status == 403
    wildcard = policy("ana", "Allow", "arn:aws:execute-api:us-east-1:*:api1/*", {})
    assert authorizer.decide(True, None, wildcard, ARN).allowed
    both = policy("ana", "Allow", "*", {})
    both["policyDocument"]["Statement"].append(
        {"Action": "execute-api:*", "Effect": "Deny", "Resource": ARN}
    )
    assert authorizer.decide(True, None, both, ARN).status == 403  # an explicit Deny wins


def test_the_request_context_carries_principal_context_and_latency() -> None:
    decision = Decision(200, "ana", {"userId": "ana"})
    assert decision.request_context(12) == {
        "principalId": "ana",
        "userId": "ana",
        "integrationLatency": 12,
    }


def test_the_cache_keeps_decisions_for_the_ttl_and_never_failures() -> None:
    now = [0.0]
    cache = AuthorizerCache(300, clock=lambda: now[0])
    cache.put(("t1",), Decision(200, "ana"))
    cache.put(("t2",), Decision(500))
    now[0] = 299.0
    assert cache.get(("t1",)) == Decision(200, "ana") and cache.get(("t2",)) is None
    now[0] = 300.0
    assert cache.get(("t1",)) is None
    assert cache.hits == 1


def test_a_zero_ttl_caches_nothing_and_the_cache_is_bounded() -> None:
    off = AuthorizerCache(0)
    off.put(("t",), Decision(200, "ana"))
    assert off.get(("t",)) is None
    cache = AuthorizerCache(60)
    for i in range(authorizer.MAX_CACHED + 5):
        cache.put((str(i),), Decision(200, str(i)))
    assert len(cache._entries) == authorizer.MAX_CACHED
    assert cache.get(("0",)) is None and cache.get((str(authorizer.MAX_CACHED + 4),))
