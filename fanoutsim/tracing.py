"""Per-update timelines: when each update passed each point of the pipeline.

Every update carries a trace id from ``PutEvents`` to the client. The I/O layers stamp the
points named in :mod:`fanoutsim.stages`; points that happen once per subscriber (``post``,
``receipt``) are stamped per connection. Stage durations are pure
functions of the stamps. Times come from one monotonic clock (``time.perf_counter``; on
Linux it is system-wide, so a client in another process can stamp receipts too).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from fanoutsim.stages import POINTS, STAGES

PER_CONNECTION = frozenset({"post", "receipt"})


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

    def stamp_all(self, trace_ids: Iterable[str], point: str, at: float | None = None) -> None:
        at = time.perf_counter() if at is None else at
        for trace_id in trace_ids:
            self.stamp(trace_id, point, at)

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
