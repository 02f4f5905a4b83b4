"""The pipeline's one event feed: what the components report as an update moves.

Each component publishes small typed events on the :class:`Feed` it was built with; the
tracer, the delivery book and the facade's change notifications subscribe to it. One feed
with three event types replaces a hook list per component, so a reader looks in one place
for "who hears about this", and a new observer (a view, a test) subscribes without touching
the components.

- :class:`Passed`: updates passed a point of :data:`fanoutsim.stages.POINTS` (``post`` and
  ``receipt`` once per connection, keyed by the client's label).
- :class:`Dropped`: updates that will reach nobody, with the reason (rejected entry,
  failing handler, filtered or discarded stream records, duplicate flight).
- :class:`Changed`: something a live view shows has changed (``"message"``,
  ``"connections"``, ``"invocation"``); ``subject`` carries the invocation, if any.

Events are published from the loop thread, the function workers and the caller's thread;
listeners (a :data:`Listener` each) must be thread-safe and quick. A listener that
raises is recorded in :attr:`Feed.errors` and never breaks the publisher.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

from fanoutsim.stages import Point

__all__ = ["ChangeKind", "Changed", "Dropped", "Feed", "Listener", "Passed", "PipelineEvent"]

ChangeKind = Literal["message", "connections", "invocation"]


@dataclass(frozen=True, slots=True)
class Passed:
    """``trace_ids`` passed ``point`` at ``at`` (``time.perf_counter``); ``key`` names the
    connection for the per-connection points."""

    point: Point
    trace_ids: tuple[str, ...]
    at: float
    key: str = ""


@dataclass(frozen=True, slots=True)
class Dropped:
    """``trace_ids`` will reach nobody, because of ``reason``."""

    trace_ids: tuple[str, ...]
    reason: str


@dataclass(frozen=True, slots=True)
class Changed:
    """Something a view shows changed; ``subject`` is the object concerned, if any."""

    kind: ChangeKind
    subject: Any = None


PipelineEvent = Passed | Dropped | Changed
Listener = Callable[[PipelineEvent], None]

MAX_ERRORS = 100


class Feed:
    """Fan-out of pipeline events to listeners (thread-safe, copy-on-write)."""

    def __init__(self) -> None:
        self._listeners: tuple[Listener, ...] = ()
        self._lock = threading.Lock()
        self.errors: deque[str] = deque(maxlen=MAX_ERRORS)

    def subscribe(self, listener: Listener) -> None:
        with self._lock:
            self._listeners = (*self._listeners, listener)

    def unsubscribe(self, listener: Listener) -> None:
        with self._lock:
            self._listeners = tuple(s for s in self._listeners if s != listener)

    def publish(self, event: PipelineEvent) -> None:
        for listener in self._listeners:
            try:
                listener(event)
            except Exception as error:  # a broken observer must not break the pipeline
                self.errors.append(f"{type(error).__name__}: {error}")

    # Shorthands for the publishers.
    def passed(
        self, point: Point, trace_ids: Iterable[str], at: float | None = None, key: str = ""
    ) -> None:
        at = time.perf_counter() if at is None else at
        self.publish(Passed(point, tuple(trace_ids), at, key))

    def dropped(self, trace_ids: Iterable[str], reason: str) -> None:
        traces = tuple(trace_ids)
        if traces:
            self.publish(Dropped(traces, reason))

    def changed(self, kind: ChangeKind, subject: Any = None) -> None:
        self.publish(Changed(kind, subject))
