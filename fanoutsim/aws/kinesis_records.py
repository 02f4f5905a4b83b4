"""The seed's change feed: a table's changes in a Kinesis data stream, and Lambda's Kinesis
records, as pure functions.

The seed streams its flights table through Kinesis Data Streams for DynamoDB
(``KinesisStreamSpecification``): each change becomes one Kinesis record whose data is a
JSON document (``eventName``, ``dynamodb`` with ``Keys``, ``NewImage`` and ``SizeBytes``,
``tableName``, ``recordFormat``, ``eventSource: aws:dynamodb``;
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/kds.html). A ``Kinesis``
event source gives the handler records in the ``aws:kinesis`` shape, the data base64
encoded, keyed by ``kinesis.sequenceNumber``; filters see the data decoded
(https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html,
https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis-filtering.html).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any, Final

__all__ = [
    "EVENT_SOURCE",
    "POLL_INTERVAL_S",
    "change_record",
    "change_record_bytes",
    "decoded",
    "filter_view",
    "is_kinesis",
    "to_lambda_record",
]

EVENT_SOURCE: Final = "aws:kinesis"
#: Lambda reads each shard of a Kinesis stream once a second (with-kinesis.html: "Lambda
#: polls each shard in your Kinesis stream for records at a base rate of once per second").
POLL_INTERVAL_S: Final = 1.0


def change_record(ddb_record: Mapping[str, Any], table_name: str, region: str) -> dict[str, Any]:
    """What DynamoDB writes to the Kinesis stream for one change, from the change as
    DynamoDB Streams gives it (``ApproximateCreationDateTime`` in milliseconds)."""
    stream = ddb_record["dynamodb"]
    created = stream.get("ApproximateCreationDateTime", 0)
    millis = int(float(created.timestamp() if hasattr(created, "timestamp") else created) * 1000)
    if millis < 10_000_000_000:  # seconds, not milliseconds
        millis *= 1000
    dynamodb: dict[str, Any] = {"ApproximateCreationDateTime": millis, "Keys": stream["Keys"]}
    for image in ("NewImage", "OldImage"):
        if image in stream:
            dynamodb[image] = stream[image]
    dynamodb["SizeBytes"] = int(stream.get("SizeBytes", 0))
    return {
        "awsRegion": region,
        "eventID": str(ddb_record.get("eventID", "")),
        "eventName": ddb_record["eventName"],
        "userIdentity": None,
        "recordFormat": "application/json",
        "tableName": table_name,
        "dynamodb": dynamodb,
        "eventSource": "aws:dynamodb",
    }


def change_record_bytes(image_bytes: int, images: int = 2) -> int:
    """About how large the Kinesis record of one change is: the change document around
    ``images`` item images (an update carries the item before and after) of
    ``image_bytes`` each. For pricing the seed's feed, which Kinesis meters by size."""
    empty = {"eventName": "MODIFY", "eventID": "0" * 32, "dynamodb": {"Keys": {}}}
    wrapper = len(json.dumps(change_record(empty, "t" * 24, "us-east-1")).encode())
    return wrapper + images * image_bytes


def to_lambda_record(
    raw: Mapping[str, Any], *, stream_arn: str, region: str, shard_id: str, role_arn: str
) -> dict[str, Any]:
    """One ``GetRecords`` record as a Kinesis event source hands it to a function."""
    data = raw["Data"]
    arrived = raw.get("ApproximateArrivalTimestamp", 0)
    seconds = arrived.timestamp() if hasattr(arrived, "timestamp") else float(arrived)
    sequence = str(raw["SequenceNumber"])
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": raw["PartitionKey"],
            "sequenceNumber": sequence,
            "data": base64.b64encode(data).decode("ascii"),
            "approximateArrivalTimestamp": round(seconds, 3),
        },
        "eventSource": EVENT_SOURCE,
        "eventVersion": "1.0",
        "eventID": f"{shard_id}:{sequence}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": role_arn,
        "awsRegion": region,
        "eventSourceARN": stream_arn,
    }


def is_kinesis(record: Mapping[str, Any]) -> bool:
    return record.get("eventSource") == EVENT_SOURCE or "kinesis" in record


def decoded(record: Mapping[str, Any]) -> Any:
    """A Kinesis record's data as JSON, or None when it is not JSON."""
    try:
        return json.loads(base64.b64decode(record["kinesis"]["data"], validate=True))
    except (KeyError, ValueError, binascii.Error):
        return None


def filter_view(record: Mapping[str, Any]) -> dict[str, Any]:
    """What a filter pattern is matched against: the Kinesis metadata with ``data``
    decoded (with-kinesis-filtering.html)."""
    view = dict(record.get("kinesis", {}))
    data = decoded(record)
    if data is not None:
        view["data"] = data
    return view
