"""Least privilege, checked against a real run: the calls each handler makes during a full
simulated run (every route, the authorizer, GET /flights, both fan-out modes, a gone
connection) are exactly the calls its role grants, on exactly the tables it touches.

AWS pages: https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-control-access-iam.html
(``execute-api:ManageConnections`` on ``@connections``) and
https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html (the stream read actions the
mapping needs).
"""

from __future__ import annotations

from typing import Any

import pytest

from fanoutsim import stack
from fanoutsim.deploy import permissions
from fanoutsim.deploy.template import StackOptions, build_template
from fanoutsim.simulator import Simulator
from tests.deploy.runs import exercise_every_handler

TABLE_ENV = {
    stack.CONNECTIONS_TABLE: "CONNECTIONS_TABLE",
    stack.SUBSCRIPTIONS_TABLE: "SUBSCRIPTIONS_TABLE",
    stack.FLIGHTS_TABLE: "FLIGHTS_TABLE",
}


def _full_run(fanout: str) -> dict[str, Any]:
    with Simulator(fanout=fanout, authorizer=True) as sim:
        exercise_every_handler(sim)
        report = sim.report().to_dict()
    return {"calls": report["operations_by_function"], "tables": report["tables_by_function"]}


@pytest.fixture(scope="module")
def runs() -> dict[str, dict[str, Any]]:
    return {mode: _full_run(mode) for mode in stack.FANOUT_MODES}


def test_every_call_made_is_granted_and_every_grant_is_used(runs: dict[str, Any]) -> None:
    made: dict[str, set[str]] = {}
    for run in runs.values():
        for function, calls in run["calls"].items():
            if function != "(producer)":
                made.setdefault(function, set()).update(calls)
    granted = {f: set(calls) for f, calls in permissions.CALLS.items() if calls}
    assert made == granted


def test_each_call_touches_only_the_tables_granted(runs: dict[str, Any]) -> None:
    touched: dict[tuple[str, str], set[str]] = {}
    for run in runs.values():
        for function, calls in run["tables"].items():
            for call, tables in calls.items():
                touched.setdefault((function, call), set()).update(TABLE_ENV[t] for t in tables)
    granted = {
        (f, call): {r for r in resources if r != "@connections"}
        for f, calls in permissions.CALLS.items()
        for call, resources in calls.items()
        if call.startswith("dynamodb:")
    }
    assert touched == granted


def test_template_roles_grant_exactly_the_table() -> None:
    template = build_template(StackOptions(authorizer=True))
    role = template["Resources"]["StreamFanoutRole"]["Properties"]["Policies"][0]
    actions = {a for s in role["PolicyDocument"]["Statement"] for a in s["Action"]}
    assert actions == {
        "dynamodb:Scan",
        "dynamodb:Query",
        "dynamodb:DeleteItem",
        "dynamodb:BatchWriteItem",
        "execute-api:ManageConnections",
        *permissions.STREAM_READ_ACTIONS,
        *permissions.LOG_ACTIONS,
    }
    for statement in role["PolicyDocument"]["Statement"]:
        assert "*" not in statement["Resource"]  # never every resource
    post = next(
        s
        for s in role["PolicyDocument"]["Statement"]
        if s["Action"] == ["execute-api:ManageConnections"]
    )
    assert post["Resource"][0]["Fn::Sub"].endswith("${WebSocketApi}/${Stage}/POST/@connections/*")
    authorizer = template["Resources"]["AuthorizerRole"]["Properties"]["Policies"][0]
    assert [s["Action"] for s in authorizer["PolicyDocument"]["Statement"]] == [
        list(permissions.LOG_ACTIONS)
    ]
