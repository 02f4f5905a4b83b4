"""Creates the stack's tables and bus through boto3, as a deployment would, and reads a
table back: the part of a deployment the simulator does itself on moto. What to create is
:mod:`fanoutsim.stack`'s data."""

from __future__ import annotations

import json
from typing import Any

from fanoutsim.errors import ConfigError
from fanoutsim.stack import (
    ACCOUNT,
    BUS,
    CHANGE_STREAM,
    CONNECTIONS_TABLE,
    FLIGHTS_TABLE,
    RULE,
    RULE_PATTERN,
    RULE_TARGET,
    SUBSCRIPTIONS_TABLE,
)

__all__ = [
    "create_bus",
    "create_change_stream",
    "create_failure_queue",
    "create_tables",
    "scan_all",
]


def create_tables(dynamodb: Any) -> str:
    """Create the tables on-demand; return the flights table's stream ARN.

    Subscriptions are one item per (flight, connection), keyed for a consistent Query by
    flight (the design is argued in :mod:`fanoutsim.functions.subscriptions`)."""
    keys = {
        CONNECTIONS_TABLE: [("connectionId", "HASH")],
        SUBSCRIPTIONS_TABLE: [("flightId", "HASH"), ("connectionId", "RANGE")],
    }
    for name, schema in keys.items():
        dynamodb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": a, "KeyType": k} for a, k in schema],
            AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a, _ in schema],
            BillingMode="PAY_PER_REQUEST",
        )
        dynamodb.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "ttl"}
        )
    table = dynamodb.create_table(
        TableName=FLIGHTS_TABLE,
        KeySchema=[{"AttributeName": "flightId", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "flightId", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )
    arn: str = table["TableDescription"]["LatestStreamArn"]
    return arn


def create_bus(events: Any, region: str) -> None:
    """The custom bus and the rule that sends flight events to ``flight_events``."""
    events.create_event_bus(Name=BUS)
    events.put_rule(Name=RULE, EventBusName=BUS, EventPattern=json.dumps(RULE_PATTERN))
    events.put_targets(
        Rule=RULE,
        EventBusName=BUS,
        Targets=[
            {
                "Id": RULE_TARGET,
                "Arn": f"arn:aws:lambda:{region}:{ACCOUNT}:function:{RULE_TARGET}",
            }
        ],
    )


def scan_all(dynamodb: Any, table: str) -> list[dict[str, Any]]:
    """Every item of ``table`` as plain Python values (paginated)."""
    from boto3.dynamodb.types import TypeDeserializer

    deserializer = TypeDeserializer()
    items: list[dict[str, Any]] = []
    for page in dynamodb.get_paginator("scan").paginate(TableName=table):
        items.extend({k: deserializer.deserialize(v) for k, v in i.items()} for i in page["Items"])
    return items


def create_change_stream(kinesis: Any, shards: int = 4) -> tuple[str, str]:
    """The Kinesis data stream the flights table's changes go to in the seed's design
    (``KinesisStreamSpecification``); return its (ARN, name). ``shards``: four by default,
    as an on-demand stream has at creation; a record's shard is the one whose hash-key
    range holds the MD5 of its partition key (moto's Kinesis computes it as AWS does)."""
    kinesis.create_stream(StreamName=CHANGE_STREAM, ShardCount=shards)
    description = kinesis.describe_stream(StreamName=CHANGE_STREAM)["StreamDescription"]
    return str(description["StreamARN"]), CHANGE_STREAM


def create_failure_queue(sqs: Any, arn: str, *, region: str, account: str) -> str:
    """The SQS queue an on-failure destination names, made in this account (moto's); return
    its URL. A queue of another account or region is refused: nothing outside the
    simulator's own account is written."""
    _, _, _, queue_region, queue_account, name = arn.split(":", 5)
    if (queue_region, queue_account) != (region, account):
        raise ConfigError(
            f"on_failure_destination {arn!r} is not in this simulator's account and region "
            f"({account}, {region})"
        )
    return str(sqs.create_queue(QueueName=name)["QueueUrl"])
