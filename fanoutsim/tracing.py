"""Per-update timelines: when each update passed each point of the pipeline.

Every update carries a trace id from ``PutEvents`` to the client. The I/O layers stamp the
points named in :mod:`fanoutsim.stages`; points that happen once per subscriber (``post``,
``receipt``) are stamped per connection. Stage durations are pure
functions of the stamps. Times come from one monotonic clock (``time.perf_counter``; on
Linux it is system-wide, so a client in another process can stamp receipts too).
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fanoutsim.feed import Passed, PipelineEvent
from fanoutsim.stages import POINTS, STAGES, TRACE_FIELD

__all__ = [
    "PER_CONNECTION",
    "Timeline",
    "Tracer",
    "from_detail",
    "from_image",
    "from_message",
    "from_payload",
    "from_records",
    "new_trace_id",
    "stage_samples",
]

PER_CONNECTION = frozenset({"post", "receipt"})

# --- the trace id in each representation an update takes ----------------------------------
# One extractor per representation, so every layer finds the id the same way.


def from_detail(detail: Any) -> str | None:
    """The trace id in an EventBridge event's ``detail`` (a dict), if any."""
    trace = detail.get(TRACE_FIELD) if isinstance(detail, Mapping) else None
    return trace if isinstance(trace, str) and trace else None


def from_message(payload: Any) -> str | None:
    """The trace id in a decoded client message (the same plain-JSON key as the detail)."""
    return from_detail(payload)


def from_image(image: Mapping[str, Any] | None) -> str | None:
    """The trace id in a typed DynamoDB item or stream image (``{"traceId": {"S": ...}}``)."""
    typed = (image or {}).get(TRACE_FIELD)
    value = typed.get("S") if isinstance(typed, Mapping) else None
    return value if isinstance(value, str) and value else None


def from_records(records: Iterable[Mapping[str, Any]]) -> tuple[str, ...]:
    """Trace ids carried by stream records (Lambda's shape), in record order."""
    found = (from_image(record.get("dynamodb", {}).get("NewImage")) for record in records)
    return tuple(trace for trace in found if trace is not None)


_IN_PAYLOAD = re.compile(rb'"' + TRACE_FIELD.encode() + rb'":\s*"([^"\\]+)"')


def from_payload(data: bytes) -> str | None:
    """The trace id in posted message bytes, found by a regex: this runs once per post, on
    the fan-out's hot path, where decoding every message as JSON would cost more."""
    match = _IN_PAYLOAD.search(data)
    return match.group(1).decode() if match else None


@dataclass
class Timeline:
    """The stamps of one update: single points, and per-connection points."""

    trace_id: str
    points: dict[str, float] = field(default_factory=dict)
    per_connection: dict[str, dict[str, float]] = field(
        default_factory=lambda: {p: {} for p in PER_CONNECTION}
    )

    def durations_ms(self, start: str, end: str) -> list[float]:
        """Durations between two points; one per connection if either point is per-connection."""
        starts = self._values(start)
        ends = self._values(end)
        if start in PER_CONNECTION and end in PER_CONNECTION:
            first = self.per_connection[start]
            return [
                (t - first[c]) * 1000 for c, t in self.per_connection[end].items() if c in first
            ]
        if not starts or not ends:
            return []
        if end in PER_CONNECTION:
            return [(t - starts[0]) * 1000 for t in ends]
        return [(ends[0] - starts[0]) * 1000]

    def _values(self, point: str) -> list[float]:
        if point in PER_CONNECTION:
            return list(self.per_connection[point].values())
        return [self.points[point]] if point in self.points else []


class Tracer:
    """Collects stamps from any thread; first stamp of a point wins (retries don't move it)."""

    def __init__(self) -> None:
        self._timelines: dict[str, Timeline] = {}
        self._lock = threading.Lock()

    def stamp(self, trace_id: str, point: str, at: float | None = None, key: str = "") -> None:
        if point not in POINTS:
            raise ValueError(f"unknown trace point {point!r}")
        at = time.perf_counter() if at is None else at
        with self._lock:
            timeline = self._timelines.setdefault(trace_id, Timeline(trace_id))
            target = timeline.per_connection[point] if point in PER_CONNECTION else timeline.points
            target.setdefault(key if point in PER_CONNECTION else point, at)

    def observe(self, event: PipelineEvent) -> None:
        """Feed subscriber: stamp every :class:`~fanoutsim.feed.Passed` event."""
        if isinstance(event, Passed):
            for trace_id in event.trace_ids:
                self.stamp(trace_id, event.point, event.at, event.key)

    def timeline(self, trace_id: str) -> Timeline:
        with self._lock:
            return self._timelines.setdefault(trace_id, Timeline(trace_id))

    def timelines(self) -> list[Timeline]:
        with self._lock:
            return list(self._timelines.values())


def stage_samples(timelines: Iterable[Timeline]) -> dict[str, list[float]]:
    """All duration samples per stage (ms), over the given timelines."""
    samples: dict[str, list[float]] = {name: [] for name, _, _ in STAGES}
    for timeline in timelines:
        for name, start, end in STAGES:
            samples[name].extend(timeline.durations_ms(start, end))
    return samples


def new_trace_id() -> str:
    """A fresh trace id (16 hex digits)."""
    return uuid.uuid4().hex[:16]
