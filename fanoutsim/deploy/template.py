"""The real stack as a plain CloudFormation template, generated from :mod:`fanoutsim.stack`.

The simulator builds its moto account from the same data (tables and keys, TTL, stream
view, bus, rule pattern, mapping settings and filters, routes, function memory and
timeouts), so what a workshop learns on the laptop is what gets deployed. Each function
gets its own role with exactly the calls :mod:`fanoutsim.deploy.permissions` lists, and its
own log group with a retention. No SAM transform: ``aws cloudformation deploy`` takes it
as it is.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from fanoutsim import stack
from fanoutsim.aws.esm import UNLIMITED, MappingConfig
from fanoutsim.deploy import permissions
from fanoutsim.deploy.template_apis import function_id, http_api, websocket_api
from fanoutsim.errors import ConfigError
from fanoutsim.functions.stream_fanout import DEFAULT_POST_CONCURRENCY

__all__ = ["RUNTIME", "StackOptions", "build_template", "functions_of"]

RUNTIME: Final = "python3.12"
ARCHITECTURE: Final = "arm64"  # Graviton: 20% cheaper per GB-second than x86
_TABLE_KEYS: Final = {
    "ConnectionsTable": (("connectionId", "HASH"),),
    "SubscriptionsTable": (("flightId", "HASH"), ("connectionId", "RANGE")),
    "FlightsTable": (("flightId", "HASH"),),
}
#: The output naming each function: ``name=physical-name,...``.
FUNCTION_NAMES_OUTPUT: Final = "FunctionNames"
_TABLE_ENV: Final = {logical: env for env, logical in permissions.TABLE_RESOURCES.items()}


@dataclass(frozen=True)
class StackOptions:
    """What varies between deployments: fan-out mode, the ``$connect`` authorizer, the
    route set (``"fanoutsim"`` or the seed's), posts in flight, the stream mapping, and how
    long logs are kept."""

    fanout: str = "broadcast"
    authorizer: bool = False
    routes: str = "fanoutsim"
    post_concurrency: int = DEFAULT_POST_CONCURRENCY
    mapping: MappingConfig = field(default_factory=lambda: stack.DEFAULT_MAPPING)
    log_retention_days: int = 7

    def __post_init__(self) -> None:
        if self.fanout not in stack.FANOUT_MODES:
            raise ConfigError(
                f"fanout must be one of {', '.join(stack.FANOUT_MODES)}, not {self.fanout!r}"
            )
        stack.routes_named(self.routes)  # raises for an unknown route set
        if not 1 <= self.post_concurrency <= 100:
            raise ConfigError(f"post_concurrency must be 1 to 100, not {self.post_concurrency}")
        if self.log_retention_days not in (1, 3, 5, 7, 14, 30, 60, 90, 180, 365):
            raise ConfigError(
                "log_retention_days must be one CloudWatch Logs accepts "
                f"(1, 3, 5, 7, 14, 30, 60, 90, 180, 365), not {self.log_retention_days}"
            )


def functions_of(options: StackOptions) -> list[str]:
    """The functions a deployment with ``options`` needs, in a stable order."""
    needed = set(stack.routes_named(options.routes).values())
    needed |= {stack.RULE_TARGET, "stream_fanout", *stack.REST_ROUTES.values()}
    if options.authorizer:
        needed.add("authorizer")
    return sorted(needed)


def _tables() -> dict[str, Any]:
    resources: dict[str, Any] = {}
    for logical, keys in _TABLE_KEYS.items():
        properties: dict[str, Any] = {
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": a, "AttributeType": "S"} for a, _ in keys],
            "KeySchema": [{"AttributeName": a, "KeyType": k} for a, k in keys],
        }
        if logical == "FlightsTable":
            properties["StreamSpecification"] = {"StreamViewType": "NEW_IMAGE"}
        else:  # connection and subscription rows expire with the connection's lifetime
            properties["TimeToLiveSpecification"] = {"AttributeName": "ttl", "Enabled": True}
        resources[logical] = {
            "Type": "AWS::DynamoDB::Table",
            "DeletionPolicy": "Delete",
            "UpdateReplacePolicy": "Delete",
            "Properties": properties,
        }
    return resources


def _bus() -> dict[str, Any]:
    target = f"{function_id(stack.RULE_TARGET)}Function"
    return {
        "FlightsBus": {
            "Type": "AWS::Events::EventBus",
            "Properties": {"Name": {"Fn::Sub": f"${{AWS::StackName}}-{stack.BUS}"}},
        },
        "FlightEventsRule": {
            "Type": "AWS::Events::Rule",
            "Properties": {
                "EventBusName": {"Fn::GetAtt": ["FlightsBus", "Name"]},
                "EventPattern": stack.RULE_PATTERN,
                "State": "ENABLED",
                "Targets": [{"Id": stack.RULE_TARGET, "Arn": {"Fn::GetAtt": [target, "Arn"]}}],
            },
        },
        "FlightEventsRulePermission": {
            "Type": "AWS::Lambda::Permission",
            "Properties": {
                "Action": "lambda:InvokeFunction",
                "FunctionName": {"Ref": target},
                "Principal": "events.amazonaws.com",
                "SourceArn": {"Fn::GetAtt": ["FlightEventsRule", "Arn"]},
            },
        },
    }


def _environment(name: str, options: StackOptions) -> dict[str, Any]:
    tables = {r for resources in permissions.CALLS[name].values() for r in resources}
    variables: dict[str, Any] = {
        env: {"Ref": permissions.TABLE_RESOURCES[env]}
        for env in sorted(tables)
        if env in permissions.TABLE_RESOURCES
    }
    if name == "stream_fanout":
        variables["FANOUT_MODE"] = options.fanout
        variables["POST_CONCURRENCY"] = str(options.post_concurrency)
        variables["WEBSOCKET_ENDPOINT"] = {
            "Fn::Sub": "https://${WebSocketApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}"
            "/${Stage}"
        }
    if name == "authorizer":
        variables["AUTH_SECRET"] = {"Ref": "AuthSecret"}
        variables["DENIED_USERS"] = {"Ref": "DeniedUsers"}
    return variables


def _role(name: str) -> dict[str, Any]:
    stem = function_id(name)
    statements = permissions.policy_statements(name)
    statements.append(
        {
            "Effect": "Allow",
            "Action": list(permissions.LOG_ACTIONS),
            "Resource": [{"Fn::GetAtt": [f"{stem}Logs", "Arn"]}],
        }
    )
    if name == "stream_fanout":
        statements.append(
            {
                "Effect": "Allow",
                "Action": list(permissions.STREAM_READ_ACTIONS),
                "Resource": [{"Fn::GetAtt": ["FlightsTable", "StreamArn"]}],
            }
        )
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            },
            "Policies": [
                {
                    "PolicyName": f"{name}-calls",
                    "PolicyDocument": {"Version": "2012-10-17", "Statement": statements},
                }
            ],
        },
    }


def _function(name: str, options: StackOptions) -> dict[str, Any]:
    stem = function_id(name)
    spec = stack.FUNCTIONS[name]
    module, attribute = spec.handler.split(":")
    return {
        f"{stem}Logs": {
            "Type": "AWS::Logs::LogGroup",
            "DeletionPolicy": "Delete",
            "UpdateReplacePolicy": "Delete",
            "Properties": {
                "LogGroupName": {"Fn::Sub": f"/fanoutsim/${{AWS::StackName}}/{name}"},
                "RetentionInDays": options.log_retention_days,
            },
        },
        f"{stem}Role": _role(name),
        f"{stem}Function": {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "Runtime": RUNTIME,
                "Architectures": [ARCHITECTURE],
                "Handler": f"{module}.{attribute}",
                "Code": {"S3Bucket": {"Ref": "CodeBucket"}, "S3Key": {"Ref": "CodeKey"}},
                "MemorySize": spec.memory_mb,
                "Timeout": math.ceil(spec.timeout_s),
                "Role": {"Fn::GetAtt": [f"{stem}Role", "Arn"]},
                "Environment": {"Variables": _environment(name, options)},
                "LoggingConfig": {"LogGroup": {"Ref": f"{stem}Logs"}},
            },
        },
    }


def _mapping(config: MappingConfig) -> dict[str, Any]:
    if config.on_failure_destination is not None:
        raise ConfigError(
            "an on-failure destination is simulated only: the template does not make its "
            "queue or the permission to send to it; leave on_failure_destination unset to "
            "deploy"
        )
    properties: dict[str, Any] = {
        "EventSourceArn": {"Fn::GetAtt": ["FlightsTable", "StreamArn"]},
        "FunctionName": {"Ref": "StreamFanoutFunction"},
        # The oldest record, as the seed's mapping starts: a new mapping can take minutes
        # to begin polling, and from LATEST the first updates after a deploy were skipped.
        "StartingPosition": "TRIM_HORIZON",
        "BatchSize": config.batch_size,
        "MaximumBatchingWindowInSeconds": math.ceil(config.maximum_batching_window_s),
        "MaximumRetryAttempts": config.maximum_retry_attempts,
        "BisectBatchOnFunctionError": config.bisect_batch_on_function_error,
        "ParallelizationFactor": config.parallelization_factor,
    }
    if config.maximum_record_age_s != UNLIMITED:
        properties["MaximumRecordAgeInSeconds"] = math.ceil(config.maximum_record_age_s)
    if config.report_batch_item_failures:
        properties["FunctionResponseTypes"] = ["ReportBatchItemFailures"]
    if config.filter_patterns:
        properties["FilterCriteria"] = {
            "Filters": [{"Pattern": json.dumps(p)} for p in config.filter_patterns]
        }
    return {"StreamMapping": {"Type": "AWS::Lambda::EventSourceMapping", "Properties": properties}}


def _parameters(options: StackOptions) -> dict[str, Any]:
    parameters: dict[str, Any] = {
        "CodeBucket": {"Type": "String", "Description": "S3 bucket holding the functions' zip"},
        "CodeKey": {"Type": "String", "Description": "S3 key of the functions' zip"},
    }
    if options.authorizer:
        parameters["AuthSecret"] = {
            "Type": "String",
            "NoEcho": True,
            "MinLength": 32,
            "Description": "HMAC secret the $connect authorizer checks tokens with",
        }
        parameters["DeniedUsers"] = {
            "Type": "String",
            "Default": "",
            "Description": "comma-separated users the authorizer denies",
        }
    return parameters


def _outputs(options: StackOptions) -> dict[str, Any]:
    domain = "execute-api.${AWS::Region}.${AWS::URLSuffix}"
    values: Mapping[str, Any] = {
        "WebSocketEndpoint": {"Fn::Sub": f"wss://${{WebSocketApi}}.{domain}/${{Stage}}"},
        "ManagementEndpoint": {"Fn::Sub": f"https://${{WebSocketApi}}.{domain}/${{Stage}}"},
        "ApiEndpoint": {"Fn::Sub": f"https://${{HttpApi}}.{domain}"},
        "EventBusName": {"Fn::GetAtt": ["FlightsBus", "Name"]},
        "ConnectionsTableName": {"Ref": "ConnectionsTable"},
        "SubscriptionsTableName": {"Ref": "SubscriptionsTable"},
        "FlightsTableName": {"Ref": "FlightsTable"},
        "StreamFunctionName": {"Ref": "StreamFanoutFunction"},
        # every function as name=physical name, so CloudWatch can be read for each
        FUNCTION_NAMES_OUTPUT: {
            "Fn::Join": [
                ",",
                [
                    {"Fn::Sub": f"{name}=${{{function_id(name)}Function}}"}
                    for name in functions_of(options)
                ],
            ]
        },
        "FanoutMode": options.fanout,
        "Authorizer": "on" if options.authorizer else "off",
    }
    return {name: {"Value": value} for name, value in values.items()}


def build_template(options: StackOptions | None = None) -> dict[str, Any]:
    """The CloudFormation template (a JSON-ready dict) for ``options``."""
    options = options or StackOptions()
    routes = stack.routes_named(options.routes)
    resources: dict[str, Any] = {**_tables(), **_bus()}
    for name in functions_of(options):
        resources.update(_function(name, options))
    resources.update(_mapping(options.mapping))
    resources.update(websocket_api(routes, options.authorizer))
    resources.update(http_api(stack.REST_ROUTES))
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": (
            f"fanoutsim: API Gateway WebSockets fan-out ({options.fanout}, "
            f"routes {options.routes}, authorizer {'on' if options.authorizer else 'off'})"
        ),
        "Parameters": _parameters(options),
        "Resources": resources,
        "Outputs": _outputs(options),
    }
