"""Stream records: moto's get_records output converted to what Lambda delivers.

AWS pages this module checks:

- https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_streams_Record.html
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from fanoutsim.aws.stream_records import (
    KeyOnlyInsertFilter,
    drop_key_only_inserts,
    stream_event,
    to_lambda_record,
)
from fanoutsim.errors import ValidationError
from tests.aws.records import make_record, seqs

FIXTURE = json.loads((Path(__file__).parents[1] / "events" / "dynamodb_stream.json").read_text())
REGION = "eu-west-1"


@pytest.fixture
def moto_stream(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Any, str]]:
    """A moto table with a NEW_IMAGE stream: (dynamodb client, streams client, stream ARN)."""
    monkeypatch.setenv("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name=REGION)
        table = ddb.create_table(
            TableName="Flights",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
        )
        streams = boto3.client("dynamodbstreams", region_name=REGION)
        yield ddb, streams, table["TableDescription"]["LatestStreamArn"]


def read_all(streams: Any, arn: str) -> list[dict[str, Any]]:
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    return list(streams.get_records(ShardIterator=iterator)["Records"])


def set_status(ddb: Any, flight: str, status: str) -> None:
    ddb.update_item(
        TableName="Flights",
        Key={"pk": {"S": flight}},
        UpdateExpression="SET #s = :s",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": {"S": status}},
    )


def test_moto_records_convert_to_the_lambda_shape(moto_stream: tuple[Any, Any, str]) -> None:
    ddb, streams, arn = moto_stream
    ddb.put_item(TableName="Flights", Item={"pk": {"S": "BA123"}, "status": {"S": "ON_TIME"}})
    set_status(ddb, "BA123", "DELAYED")
    raw = read_all(streams, arn)
    assert raw[0]["eventVersion"] == "1.0" and raw[0]["awsRegion"] == "us-east-1"  # moto quirks
    record = to_lambda_record(raw[1], stream_arn=arn, region=REGION)
    expected = FIXTURE["Records"][0]
    assert record.keys() == expected.keys()
    assert record["dynamodb"].keys() == expected["dynamodb"].keys()
    assert record["eventName"] == "MODIFY" and record["eventVersion"] == "1.1"
    assert record["awsRegion"] == REGION and record["eventSourceARN"] == arn
    stamp = record["dynamodb"]["ApproximateCreationDateTime"]
    assert isinstance(stamp, int) and abs(stamp - time.time()) < 5
    assert record["dynamodb"]["NewImage"]["status"] == {"S": "DELAYED"}
    json.dumps(stream_event([record]))  # the event is plain JSON


def test_precise_timestamps_keep_fractions() -> None:
    raw = make_record(1)
    raw["dynamodb"]["ApproximateCreationDateTime"] = 1_767_225_600.75
    precise = to_lambda_record(raw, stream_arn="arn", region=REGION, precise=True)
    rounded = to_lambda_record(raw, stream_arn="arn", region=REGION)
    assert precise["dynamodb"]["ApproximateCreationDateTime"] == 1_767_225_600.75
    assert rounded["dynamodb"]["ApproximateCreationDateTime"] == 1_767_225_600


def test_remove_records_carry_no_image(moto_stream: tuple[Any, Any, str]) -> None:
    ddb, streams, arn = moto_stream
    ddb.put_item(TableName="Flights", Item={"pk": {"S": "BA1"}})
    ddb.delete_item(TableName="Flights", Key={"pk": {"S": "BA1"}})
    removed = to_lambda_record(read_all(streams, arn)[-1], stream_arn=arn, region=REGION)
    assert removed["eventName"] == "REMOVE" and "NewImage" not in removed["dynamodb"]


def test_update_item_creating_an_item_yields_one_insert(moto_stream: tuple[Any, Any, str]) -> None:
    ddb, streams, arn = moto_stream
    set_status(ddb, "BA9", "BOARDING")
    ddb.put_item(TableName="Flights", Item={"pk": {"S": "KEYONLY"}})
    set_status(ddb, "KEYONLY", "LANDED")
    raw = read_all(streams, arn)
    assert [r["eventName"] for r in raw] == ["INSERT", "INSERT", "INSERT", "MODIFY"]
    cleaned = drop_key_only_inserts(raw)
    assert [r["eventName"] for r in cleaned] == ["INSERT", "INSERT", "MODIFY"]
    assert cleaned[0]["dynamodb"]["NewImage"]["status"] == {"S": "BOARDING"}
    assert cleaned[1]["dynamodb"]["NewImage"] == {"pk": {"S": "KEYONLY"}}  # genuine: kept


def test_filter_holds_a_trailing_key_only_insert_for_one_poll() -> None:
    key_only = make_record(1)
    full = make_record(2, status="DELAYED")
    other = make_record(3, flight="LH1", status="ON_TIME")
    feed = KeyOnlyInsertFilter()
    assert feed.feed([key_only]) == []
    assert seqs(feed.feed([full])) == [2]
    genuine = make_record(4, flight="AF7")
    assert seqs(feed.feed([genuine, other])) == [3]
    assert seqs(feed.feed([])) == [4]
    assert feed.feed([make_record(5, flight="KL2")]) == []
    assert seqs(feed.flush()) == [5]


def test_incomplete_record_is_a_validation_error() -> None:
    broken = make_record(1)
    del broken["dynamodb"]["Keys"]
    with pytest.raises(ValidationError, match="Keys"):
        to_lambda_record(broken, stream_arn="arn", region=REGION)


def test_the_typed_view_reads_a_lambda_record_without_copying_it() -> None:
    from fanoutsim.aws.stream_records import StreamRecord

    raw = {
        "eventID": "e1",
        "eventName": "MODIFY",
        "dynamodb": {
            "SequenceNumber": "000012",
            "Keys": {"flightId": {"S": "FS1"}},
            "NewImage": {"flightId": {"S": "FS1"}, "traceId": {"S": "t"}},
        },
    }
    view = StreamRecord(raw)
    assert (view.event_id, view.event_name, view.sequence_number) == ("e1", "MODIFY", "000012")
    assert view.keys == {"flightId": {"S": "FS1"}} and view.new_image is raw["dynamodb"]["NewImage"]
    assert StreamRecord({"eventID": "e2"}).new_image is None
