"""PutEvents semantics: entry validation (cross-checked with moto), envelope, sizes.

AWS pages this module checks:

- https://aws.amazon.com/eventbridge/pricing/
- https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-events-structure.html
- https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html
- https://aws.amazon.com/blogs/compute/more-room-to-build-serverless-services-now-support-payloads-up-to-1-mb
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from fanoutsim.aws import eventbridge
from fanoutsim.aws.limits import limits
from fanoutsim.errors import ValidationError

EXPECTED = json.loads((Path(__file__).parents[1] / "events" / "eventbridge_event.json").read_text())
GOOD = {
    "Source": "flights.operations",
    "DetailType": "FlightStatusChanged",
    "Detail": json.dumps(EXPECTED["detail"]),
}


def without(field: str) -> dict[str, Any]:
    return {k: v for k, v in GOOD.items() if k != field}


def moto_verdict(entry: dict[str, Any]) -> tuple[str, str] | None:
    """What moto's PutEvents says about one entry."""
    with mock_aws():
        events = boto3.client(
            "events", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x"
        )
        result = events.put_events(Entries=[entry])["Entries"][0]
    return (result["ErrorCode"], result["ErrorMessage"]) if "ErrorCode" in result else None


@pytest.mark.parametrize(
    ("entry", "code"),
    [
        (without("Source"), "InvalidArgument"),
        (without("DetailType"), "InvalidArgument"),
        (without("Detail"), "InvalidArgument"),
        ({**GOOD, "Detail": ""}, "InvalidArgument"),
        ({**GOOD, "Detail": "{not json"}, "MalformedDetail"),
        (GOOD, None),
    ],
)
def test_verdicts_agree_with_moto(entry: dict[str, Any], code: str | None) -> None:
    ours = eventbridge.validate_entry(entry)
    assert (ours and ours[0]) == code
    assert moto_verdict(entry) == ours


def test_missing_field_message_names_the_field() -> None:
    assert eventbridge.validate_entry(without("DetailType")) == (
        "InvalidArgument",
        "Parameter DetailType is not valid. Reason: DetailType is a required argument.",
    )


@pytest.mark.filterwarnings("ignore:EventDetail should be of type dict")
@pytest.mark.parametrize("detail", ["[1, 2]", '"text"', "5", "null"])
def test_detail_must_be_an_object_where_moto_accepts_it(detail: str) -> None:
    entry = {**GOOD, "Detail": detail}
    assert eventbridge.validate_entry(entry) == ("MalformedDetail", "Detail is malformed.")
    assert moto_verdict(entry) is None  # moto accepts (and warns AWS would ignore it)


def test_reserved_aws_source() -> None:
    verdict = eventbridge.validate_entry({**GOOD, "Source": "aws.events"})
    assert verdict is not None and verdict[0] == "NotAuthorizedForSourceException"


def test_the_size_limit_is_1_mb_since_2026_with_its_source() -> None:
    [entry] = [v for k, v in limits().items() if k == "eventbridge_entry_bytes"]
    assert entry.value == eventbridge.max_entry_bytes() == 1024 * 1024
    assert "more-room-to-build-serverless" in entry.source and entry.as_of
    under_the_old_cap = {**GOOD, "Detail": json.dumps({"x": "a" * (300 * 1024)})}
    assert eventbridge.validate_entry(under_the_old_cap) is None  # 300 KB: fine since 2026


def test_entry_size_follows_the_aws_formula_and_caps_at_the_limit() -> None:
    entry = {**GOOD, "Resources": ["arn:é"], "Time": datetime(2026, 1, 1, tzinfo=UTC)}
    expected = 14 + len("flights.operations") + len("FlightStatusChanged") + len(GOOD["Detail"])
    assert eventbridge.entry_size(entry) == expected + len("arn:é".encode())
    big = {**GOOD, "Detail": json.dumps({"x": "a" * (1024 * 1024)})}
    assert eventbridge.validate_entry(big) == (
        "ValidationException",
        "Total size of the entries in the request is over the limit.",
    )


def test_validate_request_limits() -> None:
    eventbridge.validate_request([GOOD] * eventbridge.MAX_ENTRIES)
    for entries in ([], [GOOD] * 11):
        with pytest.raises(ValidationError):
            eventbridge.validate_request(entries)
    half = {**GOOD, "Detail": json.dumps({"x": "a" * (520 * 1024)})}
    assert eventbridge.validate_entry(half) is None
    with pytest.raises(ValidationError, match="over the limit"):
        eventbridge.validate_request([half, half])


def test_iso_time_is_whole_seconds_in_utc() -> None:
    assert eventbridge.iso_time(1767256200.9) == "2026-01-01T08:30:00Z"


def test_event_units() -> None:
    assert [eventbridge.event_units(n) for n in (0, 1, 65536, 65537, 262144)] == [1, 1, 1, 2, 4]
