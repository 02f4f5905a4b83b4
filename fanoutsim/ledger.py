"""The pipeline's ledger: which updates entered it, in order, and whom each one owes.

Every accepted ``PutEvents`` entry passes :meth:`Ledger.admit`, whoever sent it (the
simulator's producer, an SDK or the CLI on the AWS endpoint): it is metered, given a trace
id if it has none, and owes one delivery to each subscriber that is to hear it (everyone
under broadcast, the flight's followers under per-flight). An entry that reaches no rule
is recorded as dropped at once, with the reason EventBridge would leave unsaid.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Collection, Mapping
from typing import Any

from fanoutsim import stack, tracing
from fanoutsim.aws import eventbridge
from fanoutsim.aws.metering import Meter
from fanoutsim.aws.patterns import matches
from fanoutsim.deliveries import Deliveries
from fanoutsim.feed import Feed
from fanoutsim.stages import TRACE_FIELD

__all__ = ["Ledger", "reaches_the_rule"]

#: The connected clients by name, each with the flights it follows.
Audience = Callable[[], Mapping[str, Any]]


class Ledger:
    """Updates in the order they entered, their kinds, and the deliveries they owe."""

    def __init__(
        self, deliveries: Deliveries, feed: Feed, meter: Meter, audience: Audience, fanout: str
    ) -> None:
        self._deliveries = deliveries
        self._feed = feed
        self._meter = meter
        self._audience = audience
        self._per_flight = fanout == "per-flight"
        self.published: list[str] = []  # trace ids, oldest first
        #: How many were of each detail type (flight loads apart from status updates).
        self.kinds: Counter[str] = Counter()
        self.kind_of: dict[str, str] = {}  # trace id -> detail type
        self._lock = threading.Lock()

    def expect(self, trace_id: str, flight_id: str | None, detail_type: str = "other") -> None:
        """An update of ``flight_id`` enters the pipeline: it owes a delivery to every
        subscriber connected now that is to hear it, and passes ``put_events`` (once per
        trace id, whoever calls)."""
        with self._lock:
            if trace_id in self.kind_of:
                return
            self.published.append(trace_id)
            self.kinds[detail_type] += 1
            self.kind_of[trace_id] = detail_type
        clients = dict(self._audience())
        owed: Collection[str] = (
            [n for n, c in clients.items() if flight_id in c.flights]
            if self._per_flight
            else list(clients)
        )
        self._deliveries.expect(trace_id, owed, audience=len(clients))
        self._feed.passed("put_events", (trace_id,))

    def admit(self, entry: dict[str, Any]) -> dict[str, Any]:
        """An accepted PutEvents entry, from any caller: meter it, give it a trace id if it
        has none, expect its deliveries. Returns the entry EventBridge is to deliver."""
        self._meter.eventbridge_event(eventbridge.entry_size(entry))
        detail = json.loads(entry["Detail"])
        trace_id = tracing.from_detail(detail)
        if trace_id is None:
            trace_id = tracing.new_trace_id()
            entry = {**entry, "Detail": json.dumps({**detail, TRACE_FIELD: trace_id})}
        flight = detail.get("flightId") if isinstance(detail, dict) else None
        kind = entry.get("DetailType")
        self.expect(trace_id, flight if isinstance(flight, str) else None, str(kind or "other"))
        if not reaches_the_rule(entry, detail):  # accepted, and delivered nowhere
            self._feed.dropped(
                (trace_id,),
                "no rule matched: EventBridge accepted the entry and delivered it nowhere "
                f"(bus {entry.get('EventBusName', 'default')!r}, source "
                f"{entry.get('Source')!r}, detail-type {kind!r})",
            )
        return entry


def reaches_the_rule(entry: Mapping[str, Any], detail: Any) -> bool:
    """Whether an accepted entry is on the stack's bus and matches its one rule."""
    event = {
        "source": entry.get("Source"),
        "detail-type": entry.get("DetailType"),
        "detail": detail,
    }
    bus = str(entry.get("EventBusName") or "default").rsplit("/", 1)[-1]
    return bus == stack.BUS and matches(stack.RULE_PATTERN, event)
