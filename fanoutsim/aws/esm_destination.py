"""What an event source mapping sends its on-failure destination when it discards a batch
of a stream: a JSON document about the batch (where it starts and ends in which shard, when
its records arrived, why it was given up), never the records themselves; a reader fetches
them from the stream before they expire.

Shapes as AWS's examples show them (https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html,
https://docs.aws.amazon.com/lambda/latest/dg/services-dynamodb-errors.html): ``requestContext``
(``requestId``, ``functionArn``, ``condition``, ``approximateInvokeCount``),
``responseContext`` once the function ran (``functionError: "Unhandled"`` when it raised),
``version`` 1.0, ``timestamp``, and ``KinesisBatchInfo`` or ``DDBStreamBatchInfo``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from fanoutsim.aws.esm import Discard, Record
from fanoutsim.aws.stream_records import StreamRecord
from fanoutsim.aws.utc import iso_utc

__all__ = ["failure_record"]


def _arrival(record: Record) -> float:
    """When the record reached the stream, in epoch seconds."""
    if "kinesis" in record:
        return float(record["kinesis"].get("approximateArrivalTimestamp", 0.0))
    return float(record.get("dynamodb", {}).get("ApproximateCreationDateTime", 0.0))


def failure_record(
    discard: Discard,
    *,
    function_arn: str,
    shard_id: str,
    now: datetime,
    request_id: str | None = None,
) -> dict[str, Any]:
    """The on-failure record of ``discard``. ``shard_id``: the shard read (a Kinesis
    record names its own in its ``eventID``)."""
    first, last = discard.records[0], discard.records[-1]
    kinesis = "kinesis" in first
    if kinesis:
        shard_id = str(first.get("eventID", shard_id)).partition(":")[0] or shard_id
    request: dict[str, Any] = {
        "requestId": request_id or str(uuid.uuid4()),
        "functionArn": function_arn,
        "condition": discard.condition,
        "approximateInvokeCount": discard.invoke_count,
    }
    out: dict[str, Any] = {"requestContext": request}
    if discard.invoke_count > 0:
        response: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
        if discard.function_error:
            response["functionError"] = "Unhandled"
        out["responseContext"] = response
    out["version"] = "1.0"
    out["timestamp"] = iso_utc(now.timestamp(), millis=True)
    out["KinesisBatchInfo" if kinesis else "DDBStreamBatchInfo"] = {
        "shardId": shard_id,
        "startSequenceNumber": StreamRecord(first).sequence_number,
        "endSequenceNumber": StreamRecord(last).sequence_number,
        "approximateArrivalOfFirstRecord": iso_utc(_arrival(first), millis=kinesis),
        "approximateArrivalOfLastRecord": iso_utc(_arrival(last), millis=kinesis),
        "batchSize": len(discard.records),
        "streamArn": str(first.get("eventSourceARN", "")),
    }
    return out
