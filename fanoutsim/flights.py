"""``sim.flights``: the producer's side, one noun with its verbs.

Schedule flights and publish their statuses as the seed's producers do (``PutEvents`` on
the flights bus), send raw entries, and read what was published and what the view model
(the flights table) holds now.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

from fanoutsim import provision, stack
from fanoutsim.builder import Components
from fanoutsim.functions import flight_model
from fanoutsim.open_guard import open_only
from fanoutsim.runtime.instrumentation import producer_call
from fanoutsim.sample_flights import flight_id as sample_flight_id
from fanoutsim.sample_flights import sample_flights
from fanoutsim.stages import TRACE_FIELD
from fanoutsim.tracing import new_trace_id

__all__ = ["Flights", "LocalFlights"]


class Flights(ABC):
    """The producer's side of a stack, local or deployed: publish statuses, schedule
    flights, and read what was published. Subclasses say how an update is sent and where
    the view model is read."""

    def __init__(self, is_closed: Callable[[], bool]) -> None:
        self._is_closed = is_closed
        self._version_lock = threading.Lock()
        self._last_version = 0

    @property
    def closed(self) -> bool:
        return self._is_closed()

    @open_only
    def publish(self, flight_id: str, status: str, details: str = "") -> str:
        """Publish a ``Flight status updated`` event; returns the update's trace id.
        ``flight_id`` may be a sample flight's code (``"FS101"``) for its UUID."""
        detail = {
            "flightId": sample_flight_id(flight_id),
            "event": status,
            "eventDetails": details,
            "version": self._next_version(),  # the order published, whatever order it runs
        }
        return self._send(flight_model.STATUS_UPDATED, detail)

    @open_only
    def schedule(self, flight: dict[str, Any]) -> str:
        """Publish a ``New flight scheduled`` event; returns the update's trace id."""
        return self._send(flight_model.NEW_FLIGHT, flight)

    @open_only
    def load(self, wait: bool = True) -> list[str]:
        """Schedule the sample flights the view model lacks (and wait until every client
        has them). A flight scheduled twice changes nothing and reaches nobody."""
        present = self._present()
        traces = [self.schedule(f.flight) for f in sample_flights() if f.flight_id not in present]
        if wait:
            self._settle()
        return traces

    def _next_version(self) -> int:
        """Microseconds since the epoch, strictly growing within this producer."""
        with self._version_lock:
            self._last_version = max(time.time_ns() // 1000, self._last_version + 1)
            return self._last_version

    @property
    def latest(self) -> str | None:
        """The trace id of the most recent update, if any."""
        published = self.published
        return published[-1] if published else None

    # ----------------------------------------------------------------- what differs
    @abstractmethod
    def _send(self, detail_type: str, detail: dict[str, Any]) -> str:
        """Send one event with a fresh trace id; return the id."""

    def _present(self) -> set[str]:
        """Flights the view model already holds, which :meth:`load` skips."""
        return set()

    @abstractmethod
    def _settle(self) -> None:
        """Wait until what :meth:`load` sent has arrived."""

    @property
    @abstractmethod
    def published(self) -> list[str]:
        """Trace ids of every update that entered the pipeline, oldest first."""

    @abstractmethod
    def rows(self) -> list[dict[str, Any]]:
        """The view model: the flights as the stack holds them now."""


class LocalFlights(Flights):
    """The simulator's producer: ``PutEvents`` through moto, every update in the ledger."""

    def __init__(
        self, components: Components, is_closed: Callable[[], bool], settle: Callable[[], None]
    ) -> None:
        super().__init__(is_closed)
        self._c = components
        self._wait = settle  # every delivery, then the pipeline idle (the table holds them)

    def _settle(self) -> None:
        self._wait()

    @open_only
    def put_events(self, entries: list[dict[str, Any]]) -> dict[str, Any]:
        """Send raw ``PutEvents`` entries as a producer would; returns AWS's response."""
        token = producer_call.set(True)
        try:
            response: dict[str, Any] = self._c.events.put_events(Entries=entries)
        finally:
            producer_call.reset(token)
        return response

    def _send(self, detail_type: str, detail: dict[str, Any]) -> str:
        trace_id = new_trace_id()
        # before the call: it stamps put_events
        self._c.ledger.expect(trace_id, detail.get("flightId"), detail_type)
        entry = stack.event_entry(detail_type, {**detail, TRACE_FIELD: trace_id})
        response = self.put_events([entry])
        if response["FailedEntryCount"]:
            error = response["Entries"][0]
            reason = f"{error.get('ErrorCode')}: {error.get('ErrorMessage')}"
            self._c.feed.dropped((trace_id,), reason)
        return trace_id

    @property
    def published(self) -> list[str]:
        """Trace ids of every update that entered the pipeline, from here or from outside
        (an SDK or the CLI on the AWS endpoint), oldest first."""
        return list(self._c.ledger.published)

    @open_only
    def rows(self) -> list[dict[str, Any]]:
        """The flights table's items (the view model)."""
        return provision.scan_all(self._c.dynamodb, stack.FLIGHTS_TABLE)
