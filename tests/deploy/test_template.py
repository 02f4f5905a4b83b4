"""The CloudFormation template: cfn-lint finds no error (nor warning) in any variant, and it
carries what the simulator builds from (tables and keys, TTL, stream view, rule pattern,
mapping settings and filters, routes, route responses, the authorizer, the stage).

AWS pages: https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-route-response-selection-expressions.html
(two-way routes need a route response),
https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-batchfailurereporting.html
(``FunctionResponseTypes: ReportBatchItemFailures``) and
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-apigatewayv2-authorizer.html
(a REQUEST authorizer on ``$connect``) and
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-apigatewayv2-deployment.html
(a Deployment is a snapshot of the API; the stage serves the one it names).
"""

from __future__ import annotations

import dataclasses
import itertools
import json

import pytest
from cfnlint.api import ManualArgs, lint

from fanoutsim import stack
from fanoutsim.deploy.template import RUNTIME, StackOptions, build_template, functions_of
from fanoutsim.deploy.template_apis import function_id
from fanoutsim.errors import ConfigError

VARIANTS = [
    StackOptions(fanout=fanout, authorizer=authorizer, routes=routes)
    for fanout, authorizer, routes in itertools.product(
        stack.FANOUT_MODES, (False, True), tuple(stack.ROUTE_SETS)
    )
]


def _of_type(template: dict, kind: str) -> dict:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == kind}


@pytest.mark.parametrize("options", VARIANTS, ids=lambda o: f"{o.fanout}-{o.authorizer}-{o.routes}")
def test_cfn_lint_finds_nothing(options: StackOptions) -> None:
    """cfn-lint's errors and warnings (its command line's default set)."""
    assert _lint(build_template(options)) == []


def _lint(template: dict) -> list[str]:
    matches = lint(json.dumps(template), config=ManualArgs(regions=[stack.REGION]))
    return [f"{m.rule.id} {m.message}" for m in matches]


def test_cfn_lint_would_catch_a_broken_template() -> None:
    template = build_template()
    template["Resources"]["StreamFanoutFunction"]["Properties"]["Runtime"] = "python2.1"
    assert any(m.startswith("E3030") for m in _lint(template))


def test_tables_match_the_simulator() -> None:
    tables = _of_type(build_template(), "AWS::DynamoDB::Table")
    keys = {
        k: [(a["AttributeName"], a["KeyType"]) for a in t["Properties"]["KeySchema"]]
        for k, t in tables.items()
    }
    assert keys == {
        "ConnectionsTable": [("connectionId", "HASH")],
        "SubscriptionsTable": [("flightId", "HASH"), ("connectionId", "RANGE")],
        "FlightsTable": [("flightId", "HASH")],
    }
    flights = tables["FlightsTable"]["Properties"]
    assert flights["StreamSpecification"] == {"StreamViewType": "NEW_IMAGE"}
    for name in ("ConnectionsTable", "SubscriptionsTable"):
        ttl = tables[name]["Properties"]["TimeToLiveSpecification"]
        assert ttl == {"AttributeName": "ttl", "Enabled": True}
    assert {t["Properties"]["BillingMode"] for t in tables.values()} == {"PAY_PER_REQUEST"}


def test_mapping_carries_the_simulator_settings() -> None:
    mapping = build_template()["Resources"]["StreamMapping"]["Properties"]
    config = stack.DEFAULT_MAPPING
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["StartingPosition"] == "TRIM_HORIZON"  # as the seed's, and the simulator's
    assert mapping["BatchSize"] == config.batch_size
    assert mapping["MaximumRetryAttempts"] == config.maximum_retry_attempts
    assert mapping["BisectBatchOnFunctionError"] == config.bisect_batch_on_function_error
    patterns = [json.loads(f["Pattern"]) for f in mapping["FilterCriteria"]["Filters"]]
    assert patterns == [dict(p) for p in config.filter_patterns]
    seed = build_template(StackOptions(mapping=stack.SEED_MAPPING))["Resources"]["StreamMapping"]
    assert seed["Properties"]["BatchSize"] == 1


def test_a_mapping_with_an_on_failure_destination_is_not_deployed_half_made() -> None:
    mapping = dataclasses.replace(
        stack.DEFAULT_MAPPING,
        on_failure_destination=f"arn:aws:sqs:{stack.REGION}:{stack.ACCOUNT}:failures",
    )
    with pytest.raises(ConfigError, match="on-failure destination is simulated only"):
        build_template(StackOptions(mapping=mapping))


def test_rule_pattern_and_target() -> None:
    rule = build_template()["Resources"]["FlightEventsRule"]["Properties"]
    assert rule["EventPattern"] == stack.RULE_PATTERN
    assert rule["Targets"][0]["Arn"] == {"Fn::GetAtt": ["FlightEventsFunction", "Arn"]}


@pytest.mark.parametrize("routes", tuple(stack.ROUTE_SETS))
def test_routes_and_route_responses(routes: str) -> None:
    template = build_template(StackOptions(routes=routes))
    keys = {
        r["Properties"]["RouteKey"] for r in _of_type(template, "AWS::ApiGatewayV2::Route").values()
    }
    assert keys == set(stack.ROUTE_SETS[routes]) | set(stack.REST_ROUTES)
    responses = _of_type(template, "AWS::ApiGatewayV2::RouteResponse")
    two_way = {"subscribe", "unsubscribe", "$default"} & set(stack.ROUTE_SETS[routes])
    assert len(responses) == len(two_way)
    api = template["Resources"]["WebSocketApi"]["Properties"]
    assert api["RouteSelectionExpression"] == "$request.body.action"
    stage = template["Resources"]["Stage"]["Properties"]
    assert stage["StageName"] == "prod"
    deployment = template["Resources"][stage["DeploymentId"]["Ref"]]
    routes_and_responses = {
        k
        for kind in ("AWS::ApiGatewayV2::Route", "AWS::ApiGatewayV2::RouteResponse")
        for k in _of_type(template, kind)
        if "Http" not in k
    }
    assert routes_and_responses <= set(deployment["DependsOn"])  # replies not lost at first


def _deployment_of(options: StackOptions) -> str:
    ref: str = build_template(options)["Resources"]["Stage"]["Properties"]["DeploymentId"]["Ref"]
    return ref


def test_every_change_to_what_the_stage_serves_is_a_new_deployment() -> None:
    """A Deployment snapshots the API when created; a fixed logical id would never redeploy
    the stage, so the authorizer asked for would not be in force. Anything else (the
    fan-out mode is a function setting) keeps the stage's deployment."""
    plain = _deployment_of(StackOptions())
    assert _deployment_of(StackOptions(authorizer=True)) != plain
    assert _deployment_of(StackOptions(routes="seed")) != plain
    assert _deployment_of(StackOptions(fanout="per-flight")) == plain
    assert _deployment_of(StackOptions()) == plain  # the same template, the same id


def test_authorizer_guards_connect_only() -> None:
    template = build_template(StackOptions(authorizer=True))
    routes = _of_type(template, "AWS::ApiGatewayV2::Route")
    custom = {
        r["Properties"]["RouteKey"]
        for r in routes.values()
        if r["Properties"].get("AuthorizationType") == "CUSTOM"
    }
    assert custom == {"$connect"}
    assert template["Resources"]["ConnectAuthorizer"]["Properties"]["AuthorizerType"] == "REQUEST"
    assert template["Parameters"]["AuthSecret"]["NoEcho"] is True
    assert "ConnectAuthorizer" not in build_template()["Resources"]


def test_functions_keep_their_memory_and_timeout() -> None:
    template = build_template(StackOptions(fanout="per-flight"))
    functions = _of_type(template, "AWS::Lambda::Function")
    assert len(functions) == len(functions_of(StackOptions()))
    stream = functions["StreamFanoutFunction"]["Properties"]
    assert stream["MemorySize"] == stack.FUNCTIONS["stream_fanout"].memory_mb
    assert stream["Timeout"] == stack.FUNCTIONS["stream_fanout"].timeout_s
    assert stream["Environment"]["Variables"]["FANOUT_MODE"] == "per-flight"
    assert {f["Properties"]["Runtime"] for f in functions.values()} == {RUNTIME}
    assert {tuple(f["Properties"]["Architectures"]) for f in functions.values()} == {("arm64",)}
    logs = _of_type(template, "AWS::Logs::LogGroup")
    assert len(logs) == len(functions)
    assert {g["Properties"]["RetentionInDays"] for g in logs.values()} == {7}


def test_outputs_are_shaped_like_the_seed() -> None:
    outputs = build_template()["Outputs"]
    assert outputs["WebSocketEndpoint"]["Value"]["Fn::Sub"].startswith("wss://")
    assert outputs["WebSocketEndpoint"]["Value"]["Fn::Sub"].endswith("/${Stage}")
    assert outputs["ApiEndpoint"]["Value"]["Fn::Sub"].startswith("https://")


def test_bad_options_are_refused_with_a_sentence() -> None:
    with pytest.raises(ConfigError, match="fanout must be one of"):
        StackOptions(fanout="everyone")
    with pytest.raises(ConfigError, match="unknown route set"):
        StackOptions(routes="mine")
    with pytest.raises(ConfigError, match="log_retention_days"):
        StackOptions(log_retention_days=2)


def test_every_function_is_named_in_the_outputs_for_cloudwatch() -> None:
    options = StackOptions(fanout="per-flight", authorizer=True)
    joined = build_template(options)["Outputs"]["FunctionNames"]["Value"]["Fn::Join"]
    pairs = [part["Fn::Sub"] for part in joined[1]]
    assert joined[0] == ","
    assert pairs == [f"{n}=${{{function_id(n)}Function}}" for n in functions_of(options)]
    assert "stream_fanout=${StreamFanoutFunction}" in pairs
