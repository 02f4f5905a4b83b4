"""The record an on-failure destination receives for a discarded batch, against AWS's
examples of it: https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html
(``KinesisBatchInfo``) and https://docs.aws.amazon.com/lambda/latest/dg/services-dynamodb-errors.html
(``DDBStreamBatchInfo``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fanoutsim.aws.esm import RECORD_AGE_EXCEEDED, RETRIES_EXHAUSTED, Discard
from fanoutsim.aws.esm_destination import failure_record
from tests.aws.records import STREAM_ARN, make_record

FUNCTION = "arn:aws:lambda:eu-west-1:123456789012:function:fanoutsim-stream-fanout"
NOW = datetime(2026, 12, 6, 10, 15, 30, 123_000, tzinfo=UTC)
#: The keys of AWS's examples, level by level.
REQUEST = {"requestId", "functionArn", "condition", "approximateInvokeCount"}
RESPONSE = {"statusCode", "executedVersion", "functionError"}
BATCH = {
    "shardId",
    "startSequenceNumber",
    "endSequenceNumber",
    "approximateArrivalOfFirstRecord",
    "approximateArrivalOfLastRecord",
    "batchSize",
    "streamArn",
}


def _kinesis(seq: int, arrived: float) -> dict[str, Any]:
    stream = "arn:aws:kinesis:eu-west-1:123456789012:stream/fanoutsim-flight-changes"
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": "FS101",
            "sequenceNumber": str(seq),
            "data": "e30=",
            "approximateArrivalTimestamp": arrived,
        },
        "eventSource": "aws:kinesis",
        "eventID": f"shardId-000000000002:{seq}",
        "eventSourceARN": stream,
    }


def test_a_dynamodb_batch_record_has_the_documented_fields() -> None:
    discard = Discard((make_record(7), make_record(9)), RETRIES_EXHAUSTED, 3, True)
    record = failure_record(
        discard, function_arn=FUNCTION, shard_id="shardId-0001", now=NOW, request_id="r-1"
    )
    assert set(record) == {
        "requestContext",
        "responseContext",
        "version",
        "timestamp",
        "DDBStreamBatchInfo",
    }
    assert set(record["requestContext"]) == REQUEST and set(record["responseContext"]) == RESPONSE
    assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3
    assert record["responseContext"]["functionError"] == "Unhandled"
    assert (record["version"], record["timestamp"]) == ("1.0", "2026-12-06T10:15:30.123Z")
    info = record["DDBStreamBatchInfo"]
    assert set(info) == BATCH
    assert (info["startSequenceNumber"], info["endSequenceNumber"]) == ("7", "9")
    assert info["batchSize"] == 2 and info["streamArn"] == STREAM_ARN
    assert info["shardId"] == "shardId-0001"
    assert info["approximateArrivalOfFirstRecord"] == "2026-01-01T00:00:00Z"  # seconds, as AWS's


def test_a_kinesis_batch_record_names_its_shard_and_arrivals_in_milliseconds() -> None:
    records = (_kinesis(100, 1_765_016_130.5), _kinesis(105, 1_765_016_131.25))
    record = failure_record(
        Discard(records, RETRIES_EXHAUSTED, 1, False), function_arn=FUNCTION, shard_id="", now=NOW
    )
    info = record["KinesisBatchInfo"]
    assert set(info) == BATCH and "DDBStreamBatchInfo" not in record
    assert info["shardId"] == "shardId-000000000002"
    assert info["approximateArrivalOfFirstRecord"] == "2025-12-06T10:15:30.500Z"
    assert info["approximateArrivalOfLastRecord"] == "2025-12-06T10:15:31.250Z"
    assert info["streamArn"].endswith(":stream/fanoutsim-flight-changes")
    assert "functionError" not in record["responseContext"]  # a partial failure: no raise


def test_records_never_invoked_have_no_response_context() -> None:
    discard = Discard((make_record(1),), RECORD_AGE_EXCEEDED, 0, None)
    record = failure_record(discard, function_arn=FUNCTION, shard_id="s", now=NOW)
    assert "responseContext" not in record
    assert record["requestContext"]["condition"] == "RecordAgeExceeded"
    assert len(record["requestContext"]["requestId"]) == 36  # a fresh UUID
