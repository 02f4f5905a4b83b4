"""Pattern 3 in the comparison is the project's own model, to the cent, and the throttle
frontier sits where API Gateway's account quota puts it.

Throttle: https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html
(10,000 requests a second per account, shared with @connections calls).
"""

from __future__ import annotations

import json

import pytest

from fanoutsim.cli import main as cli
from fanoutsim.model.patterns import apigw_websocket
from fanoutsim.model.patterns.base import Ask, Context


@pytest.mark.parametrize("n", [100, 10_000, 1_000_000])
def test_the_comparison_agrees_with_fanoutsim_model_to_the_cent(
    ctx: Context, n: int, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(["model", "-n", str(n), "--timing", "aws", "--json"]) == 0
    model = json.loads(capsys.readouterr().out)["monthly_cost_usd"]["total"]
    row = apigw_websocket.model(Ask(subscribers=n), ctx)
    assert round(row.total(), 2) == round(model, 2)


@pytest.mark.parametrize(("n", "u"), [(29_000, 20), (31_000, 20), (5_900, 100), (6_100, 100)])
def test_the_throttle_frontier_is_n_times_u_over_60_equals_10000(
    ctx: Context, n: int, u: float
) -> None:
    """Chunked, so the handler is not what binds: the throttle alone draws the line."""
    result = apigw_websocket.model(
        Ask(subscribers=n, updates_per_minute=u, apigw_strategy="chunked", updates=200), ctx
    )
    throttled = any("@connections throttle" in b and "needed" in b for b in result.needs())
    assert throttled == (n * u / 60 > 10_000)
    assert result.feasible == (n * u / 60 <= 10_000)


def test_coalescing_sends_fewer_larger_messages(ctx: Context) -> None:
    """A 30 s window at 20 updates/min holds 10 updates of 1 KB: one 10 KB message (one
    32 KB unit), so a tenth of the messages."""
    plain = apigw_websocket.model(Ask(subscribers=500, updates=200), ctx)
    held = apigw_websocket.model(Ask(subscribers=500, coalesce_s=30, updates=200), ctx)
    plain_msgs = plain.meter("WebSocket message").quantity
    held_msgs = held.meter("WebSocket message").quantity
    assert held_msgs * 10 == pytest.approx(plain_msgs)
