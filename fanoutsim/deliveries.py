"""Which deliveries each update owes, and which have arrived.

An update published while clients A, B, C are connected owes each of them one delivery.
A client that leaves is owed nothing more; an update that fails visibly (rejected entry,
failing handler, records discarded by the mapping) owes nothing more and is recorded with
its reason; each pair keeps its outcome for the report. Thread-safe: receipts arrive on
the simulator's loop, waits happen on the caller's thread, and a waiting caller is woken
instead of polling.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

from fanoutsim.feed import Changed, Dropped, Passed, PipelineEvent

#: What a handler returns for an event it did nothing with (a flight scheduled twice).
DUPLICATE = "duplicate"
#: ... or for a status older than the one the view model holds (it arrived late).
STALE = "stale"
#: Why such an update reaches nobody, by what the handler returned.
NOTHING_WRITTEN = {
    DUPLICATE: "duplicate flight: nothing written, nothing sent",
    STALE: "superseded: a newer status of this flight was written first; nothing sent",
}

__all__ = ["DUPLICATE", "NOTHING_WRITTEN", "STALE", "Deliveries"]


class Deliveries:
    """Every (update, subscriber) pair an update owes, and what became of it.

    A pair is owed when the update is published to a connected subscriber, and ends as
    exactly one of: delivered; left (the subscriber went away first); undelivered (the
    update failed visibly, with the reason in :attr:`dropped`); or still missing. A late
    receipt of a dropped update's pair counts as delivered. Every pair stays counted, so
    the report can account for all of them; names are kept only where a receipt can
    still change the count (missing and undelivered pairs), so a simulator that runs for
    hours keeps a few bytes per update, not one name per pair.
    """

    def __init__(self) -> None:
        self._expected = 0
        self._left = 0
        #: How many clients were connected when the updates were published (what a
        #: broadcast would have sent them to; under per-flight, more than were owed).
        self._audience = 0
        self._outstanding: dict[str, set[str]] = {}
        self._undelivered: dict[str, set[str]] = {}
        self.dropped: dict[str, str] = {}
        self._done = threading.Condition()
        #: Called (outside the lock) with each update that owes nothing more, so the tracer
        #: can pack its stamps.
        self.on_settled: Callable[[str], None] = lambda _trace_id: None
        #: Per-flight: who is owed an update is what the stream handler read (the flight's
        #: subscribers at its Query), not who followed the flight at publish time. When an
        #: invocation delivered its whole batch, owed clients it never posted to had
        #: unsubscribed first, and count as left.
        self.settle_by_what_was_read = False
        self._posted: dict[str, set[str]] = {}  # trace -> clients posted to, while owed

    def expect(self, trace_id: str, clients: Iterable[str], audience: int | None = None) -> None:
        with self._done:
            names = set(clients)
            self._audience += len(names) if audience is None else audience
            self._expected += len(names)
            if names:
                self._outstanding[trace_id] = set(names)

    def observe(self, event: PipelineEvent) -> None:
        """Feed subscriber: receipts arrive, dropped updates are owed no more."""
        if isinstance(event, Passed) and event.point == "receipt":
            for trace_id in event.trace_ids:
                self.received(trace_id, event.key)
        elif isinstance(event, Passed) and event.point == "post":
            if self.settle_by_what_was_read:
                with self._done:
                    for trace_id in event.trace_ids:
                        if trace_id in self._outstanding:
                            self._posted.setdefault(trace_id, set()).add(event.key)
        elif isinstance(event, Dropped):
            for trace_id in event.trace_ids:
                self.drop(trace_id, event.reason)
        elif isinstance(event, Changed) and event.kind == "invocation":
            result = getattr(event.subject, "result", None)
            outcome = result.get("result") if isinstance(result, dict) else None
            if outcome in NOTHING_WRITTEN:
                for trace_id in event.subject.trace_ids:
                    self.drop(trace_id, NOTHING_WRITTEN[outcome])
            elif (
                self.settle_by_what_was_read
                and isinstance(result, dict)
                and result.get("batchItemFailures") == []
            ):  # a fan-out that delivered its whole batch: its audience is known
                self._settle_unposted(event.subject.trace_ids)

    def received(self, trace_id: str, client: str) -> None:
        settled = False
        with self._done:
            waiting = self._outstanding.get(trace_id)
            if waiting is not None and client in waiting:
                waiting.discard(client)
                if not waiting:
                    del self._outstanding[trace_id]
                    self._posted.pop(trace_id, None)
                    self._done.notify_all()
                    settled = True
            else:  # a late receipt of a pair already given up on
                self._undelivered.get(trace_id, set()).discard(client)
        if settled:
            self.on_settled(trace_id)

    def drop(self, trace_id: str, reason: str) -> None:
        """The update will reach nobody more: its missing pairs become undelivered."""
        with self._done:
            waiting = self._outstanding.pop(trace_id, set())
            self._posted.pop(trace_id, None)
            self._undelivered.setdefault(trace_id, set()).update(waiting)
            self.dropped.setdefault(trace_id, reason)
            self._done.notify_all()
        self.on_settled(trace_id)

    def _settle_unposted(self, trace_ids: Iterable[str]) -> None:
        """The fan-out of these updates is over: owed clients it never posted to were not
        among the subscribers it read (they unsubscribed first): they count as left."""
        with self._done:
            owed = {
                t: self._outstanding.get(t, set()) - self._posted.pop(t, set()) for t in trace_ids
            }
            settled = self._left_first({t: names for t, names in owed.items() if names})
        for trace_id in settled:
            self.on_settled(trace_id)

    def forget_clients(self, clients: Iterable[str]) -> None:
        """Clients that left are owed nothing more: their missing pairs become left."""
        names = set(clients)
        with self._done:
            settled = self._left_first({t: owed & names for t, owed in self._outstanding.items()})
        for trace_id in settled:
            self.on_settled(trace_id)

    def _left_first(self, gone: dict[str, set[str]]) -> list[str]:
        """Count these owed pairs as left (under the lock); the updates now settled."""
        settled = []
        for trace_id, names in gone.items():
            waiting = self._outstanding.get(trace_id)
            if waiting is None or not names:
                continue
            self._left += len(names & waiting)
            waiting -= names
            if not waiting:
                del self._outstanding[trace_id]
                self._posted.pop(trace_id, None)
                settled.append(trace_id)
        self._done.notify_all()
        return settled

    def outstanding(self) -> dict[str, set[str]]:
        with self._done:
            return {t: set(n) for t, n in self._outstanding.items()}

    def wait(self, timeout: float) -> bool:
        """Block until nothing is outstanding; False if ``timeout`` passed first."""
        with self._done:
            return self._done.wait_for(lambda: not self._outstanding, timeout)

    def audience_total(self) -> int:
        """Deliveries a broadcast would have owed the same updates."""
        with self._done:
            return self._audience

    def pairs(self) -> dict[str, int]:
        """Every owed pair by outcome: ``expected == delivered + left + undelivered +
        missing``."""
        with self._done:
            count = {
                "expected": self._expected,
                "missing": sum(len(n) for n in self._outstanding.values()),
                "left": self._left,
                "undelivered": sum(len(n) for n in self._undelivered.values()),
            }
        count["delivered"] = (
            count["expected"] - count["missing"] - count["left"] - count["undelivered"]
        )
        return count
