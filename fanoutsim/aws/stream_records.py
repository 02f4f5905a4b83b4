"""DynamoDB Streams records: from what moto's ``get_records`` returns to what Lambda delivers.

A record read with boto3 ``dynamodbstreams.get_records`` (moto 5.2.5) differs from the record
an event source mapping hands to a function:

- moto says ``eventVersion`` "1.0"; Lambda delivers "1.1".
- moto hard-codes ``awsRegion`` "us-east-1" whatever the table's region.
- there is no ``eventSourceARN`` (Lambda adds the stream ARN).
- boto3 parses ``ApproximateCreationDateTime`` into a ``datetime``; Lambda's JSON carries
  epoch seconds, rounded down to the second (the Streams API documents that rounding).
- moto's ``SizeBytes`` is the length of the whole JSON-dumped ``dynamodb`` block, an
  overestimate of AWS's figure; it is passed through unchanged.

moto also writes an extra record: an ``update_item`` that creates an item first stores the
key-only item (one INSERT whose ``NewImage`` holds only the keys) and then the updated item
(a second INSERT). Real DynamoDB emits a single INSERT. :class:`KeyOnlyInsertFilter` hides
that artefact from the poller.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fanoutsim.aws import kinesis_records
from fanoutsim.errors import ValidationError

__all__ = [
    "EVENT_SOURCE",
    "EVENT_VERSION",
    "KeyOnlyInsertFilter",
    "StreamRecord",
    "drop_key_only_inserts",
    "stream_event",
    "to_lambda_record",
]

EVENT_VERSION = "1.1"
EVENT_SOURCE = "aws:dynamodb"


@dataclass(frozen=True)
class StreamRecord:
    """A read-only, typed view of one stream record in Lambda's shape (as Powertools'
    ``DynamoDBRecord`` is), so code names what it reads instead of chaining raw keys. It
    wraps the record; nothing is copied. A Kinesis record carrying a table's change (the
    seed's feed, :mod:`fanoutsim.aws.kinesis_records`) reads the same: its change from the
    decoded data, its position from ``kinesis.sequenceNumber``."""

    raw: Mapping[str, Any]

    @property
    def event_id(self) -> str:
        return str(self.raw["eventID"])

    @property
    def _change(self) -> Mapping[str, Any]:
        if kinesis_records.is_kinesis(self.raw):
            data = kinesis_records.decoded(self.raw)
            return data if isinstance(data, dict) else {}
        return self.raw

    @property
    def event_name(self) -> str:
        """``INSERT``, ``MODIFY`` or ``REMOVE``."""
        return str(self._change.get("eventName", ""))

    @property
    def _dynamodb(self) -> Mapping[str, Any]:
        block: Mapping[str, Any] = self._change.get("dynamodb", {})
        return block

    @property
    def sequence_number(self) -> str:
        """The record's position in its shard (digits; compare as integers)."""
        if kinesis_records.is_kinesis(self.raw):
            return str(self.raw["kinesis"]["sequenceNumber"])
        return str(self._dynamodb["SequenceNumber"])

    @property
    def keys(self) -> Mapping[str, Any] | None:
        return self._dynamodb.get("Keys")

    @property
    def partition_key(self) -> str:
        """What orders the record among others: the Kinesis partition key, or the item's
        key in a DynamoDB stream (records of one key are processed in order)."""
        if kinesis_records.is_kinesis(self.raw):
            return str(self.raw["kinesis"]["partitionKey"])
        return json.dumps(self.keys, sort_keys=True)

    @property
    def new_image(self) -> Mapping[str, Any] | None:
        """The item after the change, typed (``{"flightId": {"S": ...}}``), if the stream
        carries it."""
        return self._dynamodb.get("NewImage")

    def filter_view(self) -> Mapping[str, Any]:
        """What an event filter matches: the record itself, or for a Kinesis record its
        metadata with ``data`` decoded."""
        if kinesis_records.is_kinesis(self.raw):
            return kinesis_records.filter_view(self.raw)
        return self.raw


def _epoch_seconds(value: Any, *, precise: bool) -> float | int:
    """``ApproximateCreationDateTime`` as a datetime, number or ISO string -> epoch seconds."""
    if isinstance(value, datetime):
        seconds = value.timestamp()
    elif isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str):
        seconds = datetime.fromisoformat(value).timestamp()
    else:
        raise ValidationError(f"ApproximateCreationDateTime has an unknown form: {value!r}")
    return seconds if precise else math.floor(seconds)


def to_lambda_record(
    raw: Mapping[str, Any], *, stream_arn: str, region: str, precise: bool = False
) -> dict[str, Any]:
    """Convert one ``get_records`` record into the record Lambda passes to a handler.

    ``precise=True`` keeps the fractional seconds of ``ApproximateCreationDateTime``
    (useful for latency measurement; AWS itself rounds down to the second).
    """
    try:
        stream = raw["dynamodb"]
        dynamodb: dict[str, Any] = {
            "ApproximateCreationDateTime": _epoch_seconds(
                stream["ApproximateCreationDateTime"], precise=precise
            ),
            "Keys": stream["Keys"],
        }
        for image in ("NewImage", "OldImage"):
            if image in stream:
                dynamodb[image] = stream[image]
        dynamodb["SequenceNumber"] = str(stream["SequenceNumber"])
        dynamodb["SizeBytes"] = int(stream["SizeBytes"])
        dynamodb["StreamViewType"] = stream["StreamViewType"]
        return {
            "eventID": raw["eventID"],
            "eventName": raw["eventName"],
            "eventVersion": EVENT_VERSION,
            "eventSource": EVENT_SOURCE,
            "awsRegion": region,
            "dynamodb": dynamodb,
            "eventSourceARN": stream_arn,
        }
    except KeyError as exc:
        raise ValidationError(f"stream record lacks {exc.args[0]!r}") from exc


def stream_event(records: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The event a stream-triggered function receives: ``{"Records": [...]}``."""
    return {"Records": [dict(r) for r in records]}


def _is_key_only_insert(record: Mapping[str, Any]) -> bool:
    view = StreamRecord(record)
    return view.event_name == "INSERT" and view.new_image == view.keys


def _is_moto_artefact(records: Sequence[Mapping[str, Any]], index: int) -> bool | None:
    """True if ``records[index]`` is a key-only INSERT whose next same-key record is an INSERT.

    None when no later record of that key is in ``records`` (cannot tell yet).
    """
    record = records[index]
    if not _is_key_only_insert(record):
        return False
    keys = StreamRecord(record).keys
    for later in map(StreamRecord, records[index + 1 :]):
        if later.keys == keys:
            return later.event_name == "INSERT"
    return None


def drop_key_only_inserts(records: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Remove moto's key-only INSERT records that are followed by an INSERT of the same key.

    Two INSERTs in a row for one key cannot happen on AWS (a REMOVE must come between), so
    the first is moto's intermediate write. A key-only INSERT with no later record of its
    key in ``records`` is kept; use :class:`KeyOnlyInsertFilter` across polls.
    """
    return [dict(r) for i, r in enumerate(records) if not _is_moto_artefact(records, i)]


class KeyOnlyInsertFilter:
    """Stateful :func:`drop_key_only_inserts` for a poller reading the stream in pieces.

    moto appends the two INSERTs inside one request, but a poller in another thread can read
    between them. A key-only INSERT that ends a poll with no follower yet is held back for
    one poll; if its follower has not arrived by then it was a genuine key-only write and is
    released (one poll interval late).
    """

    def __init__(self) -> None:
        self._held: list[dict[str, Any]] = []
        self._held_once: set[str] = set()

    def feed(self, records: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Return the records of this poll (plus released held ones) without moto artefacts."""
        combined = [*self._held, *(dict(r) for r in records)]
        held_before, self._held, self._held_once = self._held_once, [], set()
        out: list[dict[str, Any]] = []
        for i, record in enumerate(combined):
            verdict = _is_moto_artefact(combined, i)
            if verdict is None and record["eventID"] not in held_before:
                self._held.append(record)
                self._held_once.add(record["eventID"])
            elif not verdict:
                out.append(record)
        return out

    def flush(self) -> list[dict[str, Any]]:
        """Release every held record (call when the poller stops)."""
        held, self._held, self._held_once = self._held, [], set()
        return held
