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
from array import array
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from fanoutsim.aws.stream_records import StreamRecord
from fanoutsim.feed import Passed, PipelineEvent
from fanoutsim.stages import POINTS, STAGES, TRACE_FIELD

__all__ = [
    "PER_CONNECTION",
    "PackedStamps",
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
    found = (from_image(StreamRecord(record).new_image) for record in records)
    return tuple(trace for trace in found if trace is not None)


_IN_PAYLOAD = re.compile(rb'"' + TRACE_FIELD.encode() + rb'":\s*"([^"\\]+)"')


def from_payload(data: bytes) -> str | None:
    """The trace id in posted message bytes, found by a regex: this runs once per post, on
    the fan-out's hot path, where decoding every message as JSON would cost more."""
    match = _IN_PAYLOAD.search(data)
    return match.group(1).decode() if match else None


class PackedStamps(Mapping[str, float]):
    """One per-connection point of a settled update, read-only: the connection labels in a
    tuple and the times in an array, about 16 bytes a stamp against about 60 in a dict.
    A simulator that runs for hours keeps every update's stamps for the report's
    percentiles, so they are packed once nothing more is owed."""

    __slots__ = ("_labels", "_times")

    def __init__(self, stamps: Mapping[str, float], labels: tuple[str, ...] | None = None) -> None:
        """``labels``: the same labels in another order, to share one tuple between points."""
        self._labels = tuple(stamps) if labels is None else labels
        self._times = array("d", (stamps[label] for label in self._labels))

    def __getitem__(self, label: str) -> float:
        try:
            return self._times[self._labels.index(label)]
        except ValueError:
            raise KeyError(label) from None

    @property
    def labels(self) -> tuple[str, ...]:
        return self._labels

    def __iter__(self) -> Iterator[str]:
        return iter(self._labels)

    def __len__(self) -> int:
        return len(self._labels)

    def __contains__(self, label: object) -> bool:
        return label in self._labels

    def values(self) -> list[float]:  # type: ignore[override]
        return self._times.tolist()

    def items(self) -> list[tuple[str, float]]:  # type: ignore[override]
        return list(zip(self._labels, self._times, strict=True))


@dataclass
class Timeline:
    """The stamps of one update: single points, and per-connection points."""

    trace_id: str
    points: dict[str, float] = field(default_factory=dict)
    per_connection: dict[str, Mapping[str, float]] = field(
        default_factory=lambda: {p: {} for p in PER_CONNECTION}
    )

    def durations_ms(self, start: str, end: str) -> list[float]:
        """Durations between two points; one per connection if either point is per-connection."""
        starts = self._values(start)
        ends = self._values(end)
        if start in PER_CONNECTION and end in PER_CONNECTION:
            first = dict(self.per_connection[start].items())
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

    def pack(self) -> None:
        """Pack the per-connection stamps (see :class:`PackedStamps`); points stamped for
        the same connections share one tuple of labels."""
        shared: PackedStamps | None = None
        for point, stamps in self.per_connection.items():
            if isinstance(stamps, dict):
                same = shared is not None and stamps.keys() == shared.keys()
                packed = PackedStamps(stamps, shared.labels if same and shared else None)
                self.per_connection[point] = shared = packed

    def stamps_for(self, point: str) -> dict[str, float]:
        """The writable stamps of a per-connection point (unpacked again if a late stamp
        arrives after the update settled: a client that joined after the publish)."""
        stamps = self.per_connection[point]
        if not isinstance(stamps, dict):
            stamps = self.per_connection[point] = dict(stamps.items())
        return stamps


class Tracer:
    """Collects stamps from any thread; first stamp of a point wins (retries don't move it).

    Memory is bounded: once an update settles its stamps are packed and it joins a queue of
    settled updates; when those hold more than ``keep_stamps`` stamps, the oldest settled
    updates are forgotten whole (:attr:`forgotten` counts them), so the report's stage
    percentiles are exact over a window of the latest updates rather than approximate over
    all. Updates still owed something are never forgotten.
    """

    #: About 16 bytes a packed stamp: the default window holds about 3 MB of stamps (with
    #: 500 clients and an update a second, the last 20 minutes: a soak's memory then
    #: levels off instead of climbing for an hour and a half).
    KEEP_STAMPS = 200_000

    def __init__(self, keep_stamps: int = KEEP_STAMPS) -> None:
        if keep_stamps < 1:
            raise ValueError(f"keep_stamps must be at least 1, got {keep_stamps}")
        self._timelines: dict[str, Timeline] = {}
        self._settled: OrderedDict[str, int] = OrderedDict()  # trace -> its stamps, oldest first
        self._settled_stamps = 0
        self._keep_stamps = keep_stamps
        self._gone: OrderedDict[str, None] = OrderedDict()  # recently forgotten: late stamps
        self.forgotten = 0
        self._lock = threading.Lock()

    def stamp(self, trace_id: str, point: str, at: float | None = None, key: str = "") -> None:
        if point not in POINTS:
            raise ValueError(f"unknown trace point {point!r}")
        at = time.perf_counter() if at is None else at
        with self._lock:
            if trace_id in self._gone:  # a late stamp of a forgotten update stays forgotten
                return
            timeline = self._timelines.setdefault(trace_id, Timeline(trace_id))
            if point in PER_CONNECTION:
                if key not in timeline.per_connection[point]:  # first stamp wins
                    timeline.stamps_for(point)[key] = at
            else:
                timeline.points.setdefault(point, at)

    def settle(self, trace_id: str) -> None:
        """The update owes nothing more: pack its per-connection stamps, and forget the
        oldest settled updates beyond the window."""
        with self._lock:
            timeline = self._timelines.get(trace_id)
            if timeline is None or trace_id in self._settled:
                return
            timeline.pack()
            size = len(timeline.points) + sum(map(len, timeline.per_connection.values()))
            self._settled[trace_id] = size
            self._settled_stamps += size
            while self._settled_stamps > self._keep_stamps and len(self._settled) > 1:
                oldest, stamps = self._settled.popitem(last=False)
                self._settled_stamps -= stamps
                del self._timelines[oldest]
                self._gone[oldest] = None
                if len(self._gone) > self.REMEMBER_GONE:
                    self._gone.popitem(last=False)
                self.forgotten += 1

    #: How many forgotten trace ids are remembered, so their late stamps are dropped.
    REMEMBER_GONE = 10_000

    def observe(self, event: PipelineEvent) -> None:
        """Feed subscriber: stamp every :class:`~fanoutsim.feed.Passed` event."""
        if isinstance(event, Passed):
            for trace_id in event.trace_ids:
                self.stamp(trace_id, event.point, event.at, event.key)

    def timeline(self, trace_id: str) -> Timeline:
        """The stamps of one update (empty for an id never stamped, or forgotten)."""
        with self._lock:
            return self._timelines.get(trace_id) or Timeline(trace_id)

    def timelines(self) -> list[Timeline]:
        """Every update the window holds, oldest first."""
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
