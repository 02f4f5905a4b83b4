"""EventBridge PutEvents semantics: per-entry validation, the event a target receives, sizes.

Error codes and messages are those a real PutEvents answer carries per failed entry (moto
5.2.5 returns the same ones for missing fields and malformed JSON). Assumptions, where the
API reference is silent:

- a Detail that parses but is not a JSON object (``[1]``, ``"x"``) is reported as
  ``MalformedDetail``. moto accepts it with a warning saying AWS ignores such events; either
  way no target ever receives it, and an explicit failure is what a user can see;
- ``Source`` values starting with ``aws.`` are reserved for AWS services and fail with
  ``NotAuthorizedForSourceException``;
- size: AWS caps the *total* entries of a request (1 MB since January 2026; the figure
  and its source are in ``fanoutsim/data/limits.toml``) and rejects the whole call with a
  ``ValidationException``. :func:`validate_entry` reports an entry that alone is over the
  cap with that code, and :func:`validate_request` checks the request as a whole; the
  simulator's PutEvents applies both.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

from fanoutsim.aws.limits import limit
from fanoutsim.aws.utc import iso_utc
from fanoutsim.errors import ValidationError

__all__ = [
    "EVENT_CHUNK_BYTES",
    "MAX_ENTRIES",
    "TIME_FIELD_BYTES",
    "TOO_LARGE",
    "entry_size",
    "event_units",
    "iso_time",
    "max_entry_bytes",
    "validate_entry",
    "validate_request",
]

MAX_ENTRIES = 10
EVENT_CHUNK_BYTES = 64 * 1024
TIME_FIELD_BYTES = 14  # AWS counts a given Time as 14 bytes
TOO_LARGE = ("ValidationException", "Total size of the entries in the request is over the limit.")


def max_entry_bytes() -> int:
    """The request (and so entry) size limit, from the limits data file."""
    return limit("eventbridge_entry_bytes")


def _required(field: str) -> tuple[str, str]:
    return (
        "InvalidArgument",
        f"Parameter {field} is not valid. Reason: {field} is a required argument.",
    )


def entry_size(entry: Mapping[str, Any]) -> int:
    """AWS's PutEvents entry size: UTF-8 bytes of Source, DetailType, Detail and each
    resource, plus 14 bytes if Time is given."""
    size = TIME_FIELD_BYTES if entry.get("Time") is not None else 0
    texts = [entry.get("Source"), entry.get("DetailType"), entry.get("Detail")]
    texts += list(entry.get("Resources") or [])
    # a lone surrogate has no UTF-8 form: count it as the 3 bytes it would take
    return size + sum(len(t.encode("utf-8", "surrogatepass")) for t in texts if isinstance(t, str))


def validate_entry(entry: Mapping[str, Any]) -> tuple[str, str] | None:
    """``(ErrorCode, ErrorMessage)`` for an entry PutEvents would fail, else None."""
    for field in ("Source", "DetailType", "Detail"):
        value = entry.get(field)
        if not isinstance(value, str) or not value:
            return _required(field)
    if entry["Source"].startswith("aws."):
        return "NotAuthorizedForSourceException", "Not authorized for the source."
    for field in ("Source", "DetailType"):
        if not _is_unicode(entry[field]):
            return "InvalidArgument", f"Parameter {field} is not valid. Reason: not valid UTF-8."
    if not _is_unicode(entry["Detail"]):
        return "MalformedDetail", "Detail is malformed."
    try:
        detail = json.loads(entry["Detail"])
    except (ValueError, RecursionError):  # RecursionError: nested too deep to parse
        return "MalformedDetail", "Detail is malformed."
    if not isinstance(detail, dict):
        return "MalformedDetail", "Detail is malformed."
    if entry_size(entry) > max_entry_bytes():
        return TOO_LARGE
    return None


def _is_unicode(text: str) -> bool:
    """False for text with a lone surrogate (it has no UTF-8 form)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def validate_request(entries: Sequence[Mapping[str, Any]]) -> None:
    """Raise :class:`ValidationError` for a request AWS refuses as a whole (no entries,
    more than 10, or over the size limit in total)."""
    if not 1 <= len(entries) <= MAX_ENTRIES:
        raise ValidationError(
            f"1 validation error detected: Value at 'entries' failed to satisfy constraint: "
            f"Member must have length between 1 and {MAX_ENTRIES} (got {len(entries)})"
        )
    if sum(entry_size(e) for e in entries) > max_entry_bytes():
        raise ValidationError(TOO_LARGE[1])


def iso_time(epoch_s: float) -> str:
    """Event ``time`` as EventBridge writes it: ``2024-02-09T18:11:43Z`` (whole seconds)."""
    return iso_utc(epoch_s, millis=False)


def event_units(size_bytes: int) -> int:
    """Billed events for one entry: one per started 64 KB chunk, at least one."""
    return max(1, math.ceil(size_bytes / EVENT_CHUNK_BYTES))
