"""Which deliveries each update owes, and which have arrived.

An update published while clients A, B, C are connected owes each of them one delivery.
A client that leaves is no longer owed anything; an update that fails visibly (rejected
entry, failing handler, records discarded by the mapping) owes nothing and is recorded
with its reason. Thread-safe: receipts arrive on the simulator's loop, waits happen on the
caller's thread, and a waiting caller is woken instead of polling.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from fanoutsim.feed import Changed, Dropped, Passed, PipelineEvent

#: What a handler returns for an event it did nothing with (a flight scheduled twice).
DUPLICATE = "duplicate"

__all__ = ["Deliveries"]


class Deliveries:
    """Expected and received deliveries per trace id."""

    def __init__(self) -> None:
        self._expected: dict[str, set[str]] = {}
        self._outstanding: dict[str, set[str]] = {}
        self.dropped: dict[str, str] = {}
        #: Per update, how many clients were connected when it was published (what a
        #: broadcast would have sent it to; under per-flight, more than were owed it).
        self.audience: dict[str, int] = {}
        self._done = threading.Condition()

    def expect(self, trace_id: str, clients: Iterable[str], audience: int | None = None) -> None:
        with self._done:
            names = set(clients)
            self.audience[trace_id] = len(names) if audience is None else audience
            self._expected[trace_id] = names
            if names:
                self._outstanding[trace_id] = set(names)

    def observe(self, event: PipelineEvent) -> None:
        """Feed subscriber: receipts arrive, dropped updates are owed no more."""
        if isinstance(event, Passed) and event.point == "receipt":
            for trace_id in event.trace_ids:
                self.received(trace_id, event.key)
        elif isinstance(event, Dropped):
            for trace_id in event.trace_ids:
                self.drop(trace_id, event.reason)
        elif isinstance(event, Changed) and event.kind == "invocation":
            result = getattr(event.subject, "result", None)
            if isinstance(result, dict) and result.get("result") == DUPLICATE:
                for trace_id in event.subject.trace_ids:
                    self.drop(trace_id, "duplicate flight: nothing written, nothing sent")

    def received(self, trace_id: str, client: str) -> None:
        with self._done:
            waiting = self._outstanding.get(trace_id)
            if waiting is not None:
                waiting.discard(client)
                if not waiting:
                    del self._outstanding[trace_id]
                    self._done.notify_all()

    def drop(self, trace_id: str, reason: str) -> None:
        """The update will reach nobody: stop waiting for it and remember why."""
        with self._done:
            self._expected.pop(trace_id, None)
            self._outstanding.pop(trace_id, None)
            self.dropped[trace_id] = reason
            self._done.notify_all()

    def forget_clients(self, clients: Iterable[str]) -> None:
        """Clients that left are owed nothing more."""
        names = set(clients)
        with self._done:
            for table in (self._expected, self._outstanding):
                for trace_id in list(table):
                    table[trace_id] -= names
                    if table is self._outstanding and not table[trace_id]:
                        del table[trace_id]
            self._done.notify_all()

    def outstanding(self) -> dict[str, set[str]]:
        with self._done:
            return {t: set(n) for t, n in self._outstanding.items()}

    def wait(self, timeout: float) -> bool:
        """Block until nothing is outstanding; False if ``timeout`` passed first."""
        with self._done:
            return self._done.wait_for(lambda: not self._outstanding, timeout)

    def audience_total(self) -> int:
        """Deliveries a broadcast would have owed the updates that were not dropped."""
        with self._done:
            return sum(n for t, n in self.audience.items() if t in self._expected)

    def totals(self) -> tuple[int, int]:
        """(expected, delivered) over all updates that were not dropped."""
        with self._done:
            expected = sum(len(n) for n in self._expected.values())
            missing = sum(len(n) for n in self._outstanding.values())
        return expected, expected - missing
