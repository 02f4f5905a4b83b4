"""The moto account: nothing it no longer needs is kept, so a long run does not grow.

moto records every model object it creates for its server's dashboard; the simulator turns
that record off for the services it churns (DynamoDB, its streams, EventBridge).
"""

from __future__ import annotations

import gc

import boto3
from moto.dynamodb.models.dynamo_type import Item

from fanoutsim.moto.account import MotoAccount


def _live_items() -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if type(o) is Item)


def test_items_written_and_deleted_are_not_kept() -> None:
    account = MotoAccount("us-east-1")
    try:
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        dynamodb.create_table(
            TableName="churn",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        before = _live_items()
        for n in range(300):
            dynamodb.put_item(TableName="churn", Item={"id": {"S": f"c{n}"}})
            dynamodb.delete_item(TableName="churn", Key={"id": {"S": f"c{n}"}})
        dynamodb.put_item(TableName="churn", Item={"id": {"S": "stays"}})
        assert _live_items() - before <= 1  # the row still in the table, nothing else
    finally:
        account.stop()
