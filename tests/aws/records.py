"""Builders of Lambda-shaped DynamoDB stream records for the tests."""

from __future__ import annotations

from typing import Any

STREAM_ARN = "arn:aws:dynamodb:eu-west-1:123456789012:table/Flights/stream/2026-01-01T00:00:00.000"


def make_record(
    seq: int, name: str = "INSERT", flight: str = "BA123", **attrs: str
) -> dict[str, Any]:
    """A stream record with sequence number ``seq`` for flight ``flight``."""
    keys = {"pk": {"S": flight}}
    image = {**keys, **{k: {"S": v} for k, v in attrs.items()}}
    return {
        "eventID": f"id{seq}",
        "eventName": name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "eu-west-1",
        "dynamodb": {
            "ApproximateCreationDateTime": 1_767_225_600,
            "Keys": keys,
            "NewImage": image,
            "SequenceNumber": str(seq),
            "SizeBytes": 40,
            "StreamViewType": "NEW_IMAGE",
        },
        "eventSourceARN": STREAM_ARN,
    }


def seqs(records: Any) -> list[int]:
    """Sequence numbers of records (for compact assertions)."""
    return [int(r["dynamodb"]["SequenceNumber"]) for r in records]
