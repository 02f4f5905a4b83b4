"""Times as AWS's JSON writes them: UTC, ISO 8601, ``Z``, in whole seconds or to the
millisecond (which one depends on the service and the field)."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["iso_utc"]


def iso_utc(epoch_s: float, *, millis: bool) -> str:
    """``2024-02-09T18:11:43Z``, or ``2024-02-09T18:11:43.250Z`` with ``millis``
    (truncated, never rounded up to the next second)."""
    moment = datetime.fromtimestamp(epoch_s, tz=UTC)
    whole = moment.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{whole}.{moment.microsecond // 1000:03d}Z" if millis else f"{whole}Z"
