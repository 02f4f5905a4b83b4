"""The Pattern #3 stack as data: table, bus and rule definitions, functions and routes.

One place describes what the simulator builds on moto and what a real deployment creates,
so the builder (:mod:`fanoutsim.builder`), the tests and the CloudFormation template
(:mod:`fanoutsim.deploy.template`) agree. Nothing here runs the stack.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Final

from fanoutsim.aws.esm import MappingConfig
from fanoutsim.aws.lambda_functions import FunctionSpec
from fanoutsim.errors import ConfigError
from fanoutsim.functions import flight_model
from fanoutsim.functions.stream_fanout import FANOUT_MODES, SEED_BUGS
from fanoutsim.timing import profiles

__all__ = [
    "ACCOUNT",
    "BUS",
    "CHANGE_STREAM",
    "CONNECTIONS_TABLE",
    "DEFAULT_CREDENTIALS",
    "DEFAULT_MAPPING",
    "ENVIRONMENT_KEYS",
    "FANOUT_MODES",
    "FLIGHTS_TABLE",
    "FUNCTIONS",
    "KINESIS_MAPPING",
    "REGION",
    "REST_ROUTES",
    "ROUTES",
    "ROUTE_SETS",
    "RULE",
    "RULE_PATTERN",
    "RULE_TARGET",
    "SEED_BUGS",
    "SEED_KINESIS_MAPPING",
    "SEED_MAPPING",
    "STAGE",
    "STREAMS",
    "SUBSCRIPTIONS_TABLE",
    "base_environment",
    "event_entry",
    "routes_named",
    "with_seed_bugs",
]

REGION: Final = "us-east-1"
ACCOUNT: Final = "123456789012"  # moto's default account
CONNECTIONS_TABLE: Final = "fanoutsim-connections"
FLIGHTS_TABLE: Final = "fanoutsim-flights"
#: The Kinesis data stream the flights table's changes go to with ``stream="kinesis"``
#: (the seed's design: ``KinesisStreamSpecification``; fanoutsim's default is the table's
#: own DynamoDB stream).
CHANGE_STREAM: Final = "fanoutsim-flight-changes"
#: Where the flights table's changes are read from: its DynamoDB stream, or a Kinesis
#: data stream as the seed's templates do (each with its own timing in a profile).
STREAMS: Final = profiles.STREAMS
SUBSCRIPTIONS_TABLE: Final = "fanoutsim-subscriptions"
#: The keys management API calls must be signed with unless told otherwise (``serve``
#: prints them; the AWS endpoint checks them too).
DEFAULT_CREDENTIALS: Final = ("testing", "testing")
BUS: Final = flight_model.EVENT_BUS
STAGE: Final = "prod"
RULE: Final = "flight-events-to-view-model"
RULE_TARGET: Final = "flight_events"  # the function the rule's target invokes
RULE_PATTERN: Final = {
    "source": [flight_model.EVENT_SOURCE],
    "detail-type": [flight_model.NEW_FLIGHT, flight_model.STATUS_UPDATED],
}

FUNCTIONS: Final = {
    spec.name: spec
    for spec in (
        FunctionSpec("on_connect", "fanoutsim.functions.on_connect:handler"),
        FunctionSpec("on_disconnect", "fanoutsim.functions.on_disconnect:handler"),
        FunctionSpec("on_default", "fanoutsim.functions.on_default:handler"),
        FunctionSpec("on_subscribe", "fanoutsim.functions.on_subscribe:handler"),
        FunctionSpec(
            "flight_events",
            "fanoutsim.functions.flight_events:handler",
            start_point="handler_start",
            end_point="handler_end",
        ),
        FunctionSpec(
            "stream_fanout",
            "fanoutsim.functions.stream_fanout:handler",
            memory_mb=256,
            start_point="fanout_start",
        ),
        FunctionSpec("get_flights", "fanoutsim.functions.get_flights:handler"),
        FunctionSpec("authorizer", "fanoutsim.functions.authorizer:handler"),
    )
}
#: WebSocket route sets by name. ``fanoutsim``'s takes ``subscribe`` / ``unsubscribe``
#: messages and answers any other on ``$default``; the seed's has only ``$connect`` and
#: ``$disconnect``, so API Gateway answers a client message with its ``Forbidden`` frame.
ROUTE_SETS: Final = {
    "fanoutsim": {
        "$connect": "on_connect",
        "$disconnect": "on_disconnect",
        "$default": "on_default",
        "subscribe": "on_subscribe",
        "unsubscribe": "on_subscribe",
    },
    "seed": {"$connect": "on_connect", "$disconnect": "on_disconnect"},
}
ROUTES: Final = ROUTE_SETS["fanoutsim"]
REST_ROUTES: Final = {"GET /flights": "get_flights"}

#: The simulator's mapping: AWS defaults, except a finite retry count so a poison record
#: cannot block the shard for 24 hours in a workshop (AWS's default is -1, until expiry).
DEFAULT_MAPPING: Final = MappingConfig(
    batch_size=100,
    maximum_batching_window_s=0.0,
    maximum_retry_attempts=3,
    report_batch_item_failures=True,
    filter_patterns=({"eventName": ["INSERT", "MODIFY"]},),
)

#: fanoutsim's mapping on a Kinesis stream (``stream="kinesis"``): the same settings, the
#: filter on the decoded ``data``, where a Kinesis record carries the table's change.
KINESIS_MAPPING: Final = replace(
    DEFAULT_MAPPING, filter_patterns=({"data": {"eventName": ["INSERT", "MODIFY"]}},)
)

#: The seed's own stream mapping: one record a batch, and a filter that keeps inserts and
#: modifications of items of type ``FlightStatus`` (its template filters Kinesis records on
#: ``data.eventName`` and ``data.dynamodb.NewImage.type``; here the stream is DynamoDB's).
SEED_MAPPING: Final = MappingConfig(
    batch_size=1,
    maximum_batching_window_s=0.0,
    maximum_retry_attempts=3,
    report_batch_item_failures=True,
    filter_patterns=(
        {
            "eventName": ["INSERT", "MODIFY"],
            "dynamodb": {"NewImage": {"type": {"S": [flight_model.ITEM_TYPE]}}},
        },
    ),
)

#: The seed's mapping exactly, on its Kinesis stream (``sam/3-apigw.yaml``): BatchSize 1,
#: TRIM_HORIZON, the two-part filter on the decoded ``data``, ReportBatchItemFailures, and
#: Lambda's Kinesis defaults for what the template leaves out: retries until the record
#: expires (-1) and no maximum record age below the stream's 24 hours
#: (https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-parameters.html).
SEED_KINESIS_MAPPING: Final = MappingConfig(
    batch_size=1,
    maximum_batching_window_s=0.0,
    maximum_retry_attempts=-1,
    report_batch_item_failures=True,
    filter_patterns=(
        {
            "data": {
                "eventName": ["INSERT", "MODIFY"],
                "dynamodb": {"NewImage": {"type": {"S": [flight_model.ITEM_TYPE]}}},
            }
        },
    ),
)


def with_seed_bugs(routes: Mapping[str, str], bugs: tuple[str, ...]) -> dict[str, str]:
    """The routes as the seed's template wires them when its ``$disconnect`` bug is on:
    ``$disconnect`` runs the connect handler, which writes the row back."""
    wired = dict(routes)
    if "disconnect-wired-to-connect" in bugs:
        wired["$disconnect"] = wired["$connect"]
    return wired


def routes_named(routes: str | Mapping[str, str]) -> dict[str, str]:
    """A route set by name (``"fanoutsim"``, ``"seed"``) or as given; routes must name
    known functions and include ``$connect`` and ``$disconnect``."""
    if isinstance(routes, str):
        if routes not in ROUTE_SETS:
            raise ConfigError(
                f"unknown route set {routes!r}; choose one of {', '.join(ROUTE_SETS)}"
            )
        return dict(ROUTE_SETS[routes])
    chosen = dict(routes)
    for required in ("$connect", "$disconnect"):
        if required not in chosen:
            raise ConfigError(f"routes need a {required} route")
    unknown = sorted(f for f in chosen.values() if f not in FUNCTIONS)
    if unknown:
        raise ConfigError(f"routes name unknown functions: {', '.join(unknown)}")
    return chosen


ENVIRONMENT_KEYS: Final = (
    "AWS_DEFAULT_REGION",
    "AWS_ACCOUNT_ID_ENDPOINT_MODE",
    "CONNECTIONS_TABLE",
    "FLIGHTS_TABLE",
    "SUBSCRIPTIONS_TABLE",
    "FANOUT_MODE",
    "POST_CONCURRENCY",
    "POST_MAX_ATTEMPTS",
    "WEBSOCKET_ENDPOINT",
    "CONNECT_TOKEN",
    "AUTH_SECRET",
    "DENIED_USERS",
    "SEED_BUGS",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "CONNECTION_TTL_SECONDS",
)


def base_environment(region: str) -> dict[str, str]:
    """What the handlers read, as a SAM template would set it (endpoint added on start)."""
    return {
        "AWS_DEFAULT_REGION": region,
        # moto's DynamoDB Streams answer 404 with account-based endpoints
        # (docs/architecture.md, "Where moto is touched").
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        "CONNECTIONS_TABLE": CONNECTIONS_TABLE,
        "FLIGHTS_TABLE": FLIGHTS_TABLE,
        "SUBSCRIPTIONS_TABLE": SUBSCRIPTIONS_TABLE,
    }


def event_entry(detail_type: str, detail: dict[str, Any]) -> dict[str, Any]:
    """A ``PutEvents`` entry as the seed's producers send it."""
    return {
        "Source": flight_model.EVENT_SOURCE,
        "DetailType": detail_type,
        "Detail": json.dumps(detail),
        "EventBusName": BUS,
    }
