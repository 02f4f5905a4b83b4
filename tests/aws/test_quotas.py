"""API Gateway's time and rate quotas as state machines.

Sources:
https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-execution-service-websocket-limits-table.html
(idle timeout 10 minutes, 2 hours a connection, 500 new connections a second) and
https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html
(10,000 requests a second with a token bucket, WebSocket callback APIs included).
"""

from __future__ import annotations

import pytest

from fanoutsim.aws.management import ManagementApi
from fanoutsim.aws.quotas import GatewayQuotas, TokenBucket
from fanoutsim.errors import ConfigError, ManagementError


def test_the_defaults_are_the_documented_quotas() -> None:
    quotas = GatewayQuotas()
    assert (quotas.idle_timeout_s, quotas.max_connection_s) == (600, 7200)
    assert quotas.new_connections_per_s == 500
    assert (quotas.requests_per_s, quotas.requests_burst) == (10_000, 5_000)


def test_a_bucket_lets_a_burst_through_then_the_steady_rate() -> None:
    now = [0.0]
    bucket = TokenBucket(rate=10, burst=3, clock=lambda: now[0])
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    now[0] = 0.1  # one token back
    assert [bucket.take(), bucket.take()] == [True, False]
    now[0] = 100.0  # never more than the burst saved up
    assert sum(bucket.take() for _ in range(10)) == 3


@pytest.mark.parametrize(
    "kwargs", [{"idle_timeout_s": 0}, {"requests_per_s": -1}, {"requests_burst": 0.5}]
)
def test_bad_quotas_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ConfigError):
        GatewayQuotas(**kwargs)


def test_an_empty_bucket_answers_429_limit_exceeded_and_is_counted() -> None:
    now = [0.0]
    api = ManagementApi(throttle=TokenBucket(rate=1, burst=1, clock=lambda: now[0]))
    with pytest.raises(ManagementError) as first:
        api.post("gone-anyway", b"x")  # takes the token, then answers 410
    assert first.value.status == 410
    with pytest.raises(ManagementError) as throttled:
        api.get("gone-anyway")
    assert (throttled.value.status, throttled.value.code) == (429, "LimitExceededException")
    assert api.snapshot()["throttled"] == 1
    now[0] = 1.0
    with pytest.raises(ManagementError) as later:
        api.delete("gone-anyway")
    assert later.value.status == 410
