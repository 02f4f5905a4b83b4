from __future__ import annotations

from fanoutsim.aws.utc import iso_utc


def test_whole_seconds_and_milliseconds_truncate() -> None:
    assert iso_utc(1767256200.9, millis=False) == "2026-01-01T08:30:00Z"
    assert iso_utc(1767256200.9999, millis=True) == "2026-01-01T08:30:00.999Z"
    assert iso_utc(0, millis=True) == "1970-01-01T00:00:00.000Z"
