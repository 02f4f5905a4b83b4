"""The seed's change feed in Lambda's Kinesis shape, as documented:
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/kds.html (the change
document DynamoDB writes), https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html
(the event a function receives, polled once a second) and
https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis-filtering.html (filters on the
decoded data). The field names are also those of Powertools' ``KinesisStreamRecord`` and
``KinesisDynamoDBStreamEvent``."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

from fanoutsim import stack
from fanoutsim.aws import kinesis_records
from fanoutsim.aws.esm import MappingConfig, StreamMapping
from fanoutsim.aws.patterns import filter_criteria_matches
from fanoutsim.aws.stream_records import StreamRecord

DDB_CHANGE = {
    "eventID": "e1",
    "eventName": "MODIFY",
    "dynamodb": {
        "ApproximateCreationDateTime": 1_796_541_622.44,
        "Keys": {"flightId": {"S": "FS101"}},
        "NewImage": {"flightId": {"S": "FS101"}, "type": {"S": "FlightStatus"}},
        "SequenceNumber": "100",
        "SizeBytes": 42,
        "StreamViewType": "NEW_IMAGE",
    },
}


def _kinesis(seq: str, change: dict[str, object] | None = None) -> dict[str, object]:
    document = kinesis_records.change_record(change or DDB_CHANGE, "flights", "us-east-1")
    raw = {
        "SequenceNumber": seq,
        "PartitionKey": "FS101",
        "Data": json.dumps(document).encode(),
        "ApproximateArrivalTimestamp": datetime(2026, 12, 6, tzinfo=UTC),
    }
    return kinesis_records.to_lambda_record(
        raw,
        stream_arn="arn:aws:kinesis:us-east-1:123456789012:stream/s",
        region="us-east-1",
        shard_id="shardId-000000000000",
        role_arn="arn:aws:iam::123456789012:role/r",
    )


def test_the_change_document_is_dynamodbs() -> None:
    document = kinesis_records.change_record(DDB_CHANGE, "flights", "us-east-1")
    assert set(document) == {
        "awsRegion",
        "eventID",
        "eventName",
        "userIdentity",
        "recordFormat",
        "tableName",
        "dynamodb",
        "eventSource",
    }
    assert document["recordFormat"] == "application/json"
    assert document["eventSource"] == "aws:dynamodb"
    assert document["dynamodb"]["ApproximateCreationDateTime"] == 1_796_541_622_440  # ms
    assert "SequenceNumber" not in document["dynamodb"]  # Kinesis numbers the record


def test_the_lambda_record_has_the_documented_fields() -> None:
    record = _kinesis("49590338271490256608559692538361571095921575989136588898")
    assert set(record) == {
        "kinesis",
        "eventSource",
        "eventVersion",
        "eventID",
        "eventName",
        "invokeIdentityArn",
        "awsRegion",
        "eventSourceARN",
    }
    assert set(record["kinesis"]) == {  # type: ignore[arg-type]
        "kinesisSchemaVersion",
        "partitionKey",
        "sequenceNumber",
        "data",
        "approximateArrivalTimestamp",
    }
    assert record["eventSource"] == "aws:kinesis"
    assert record["eventName"] == "aws:kinesis:record"
    assert str(record["eventID"]).startswith("shardId-000000000000:")
    data = json.loads(base64.b64decode(record["kinesis"]["data"]))  # type: ignore[index]
    assert data["dynamodb"]["NewImage"]["flightId"] == {"S": "FS101"}


def test_a_kinesis_record_reads_as_a_change_and_filters_see_the_decoded_data() -> None:
    record = _kinesis("7")
    view = StreamRecord(record)
    assert view.sequence_number == "7" and view.event_name == "MODIFY"
    assert view.new_image == DDB_CHANGE["dynamodb"]["NewImage"]  # type: ignore[index]
    (seed_filter,) = stack.SEED_KINESIS_MAPPING.filter_patterns
    assert filter_criteria_matches([seed_filter], view.filter_view())
    other = json.loads(json.dumps(DDB_CHANGE))
    other["dynamodb"]["NewImage"]["type"] = {"S": "SeatAssignment"}
    assert not filter_criteria_matches(
        [seed_filter], StreamRecord(_kinesis("8", other)).filter_view()
    )


def test_a_partial_batch_failure_is_keyed_by_the_kinesis_sequence_number() -> None:
    mapping = StreamMapping(
        MappingConfig(batch_size=10, report_batch_item_failures=True, filter_patterns=())
    )
    mapping.offer([_kinesis("11"), _kinesis("12"), _kinesis("13")], now=0.0)
    batch = mapping.next_batch(0.0)
    assert batch is not None
    mapping.complete(batch, {"batchItemFailures": [{"itemIdentifier": "12"}]}, now=0.0)
    retry = mapping.next_batch(0.0)
    assert retry is not None
    assert [StreamRecord(r).sequence_number for r in retry.records] == ["12", "13"]
