"""The room: real devices (attendees' phones) subscribed to the same pipeline, and what each
of them received.

A device is a page on the room (``?room=<name>``), known by its client label (``?client=``,
kept by the page for its session): a device that reconnects (a Wi-Fi drop, a new name typed)
stays one row, and what it missed while away counts as missed. Each update it shows
is acknowledged with a small message on the ``ack`` route (``{"action": "ack", "traceId":
...}``), which API Gateway answers from a mock integration: no function runs, the ack is
metered as one inbound message, and the seed's clients, which never send one, are not
affected. The book keeps, per device, when it joined and left, the updates it
acknowledged and their latency from ``PutEvents`` to the ack's arrival (one clock, this
machine's; the phone's clock is never read), and counts an update as missed when it was
published while the device was connected and no ack came within :data:`GRACE_S`.

A pure state machine fed by the gateway (joins, leaves, acks) and the pipeline feed
(``put_events`` stamps, dropped updates). Thread-safe. Bounded: at most
:data:`MAX_DEVICES` devices (the oldest departed are forgotten first), the newest
:data:`UPDATES_KEPT` updates and, per device, its newest :data:`UPDATES_KEPT` latencies.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Final

from fanoutsim.feed import Dropped, Passed, PipelineEvent
from fanoutsim.stages import TRACE_FIELD
from fanoutsim.stats import percentiles

__all__ = [
    "ACK_ROUTE",
    "GRACE_S",
    "MAX_DEVICES",
    "MAX_NAME",
    "UPDATES_KEPT",
    "RoomBook",
    "RoomDevice",
    "RoomSnapshot",
    "clean_name",
]

ACK_ROUTE: Final = "ack"
#: How long an update may take to be acknowledged before it counts as missed.
GRACE_S: Final = 10.0
MAX_DEVICES: Final = 500
UPDATES_KEPT: Final = 1000
MAX_NAME: Final = 24


def clean_name(raw: str | None, fallback: str) -> str:
    """A device's display name: printable, at most :data:`MAX_NAME` characters."""
    text = "".join(ch for ch in (raw or "") if ch.isprintable()).strip()[:MAX_NAME]
    return text or fallback


@dataclass(frozen=True)
class RoomDevice:
    """One device as the projector shows it."""

    name: str
    connected_at: float  # epoch seconds
    connected: bool
    received: int
    missed: int
    latency_ms: dict[str, float | None]  # p50, p99 from PutEvents to its acknowledgement

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "connected_at": self.connected_at,
            "connected": self.connected,
            "received": self.received,
            "missed": self.missed,
            "latency_ms": dict(self.latency_ms),
        }


@dataclass(frozen=True)
class RoomSnapshot:
    """The room now: its page's address, the devices, and the last update's arrivals."""

    url: str | None
    devices: tuple[RoomDevice, ...]
    last_update: str | None
    #: device name -> ms from PutEvents to its ack of :attr:`last_update`
    last_arrivals: dict[str, float]

    @property
    def connected(self) -> int:
        return sum(d.connected for d in self.devices)

    def to_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "connected": self.connected,
            "devices": [d.to_dict() for d in self.devices],
            "last_update": self.last_update,
            "last_arrivals": dict(self.last_arrivals),
        }


@dataclass
class _Device:
    name: str
    joined: float  # perf_counter, first join
    connected_at: float  # epoch, first join
    connection: str  # the current (or last) connection id
    left: float | None = None
    acks: OrderedDict[str, float] = field(default_factory=OrderedDict)  # trace -> ms


class RoomBook:
    """Devices, published updates, acknowledgements. Feed it with :meth:`observe`."""

    def __init__(self, url: str | None = None) -> None:
        self.url = url
        self._devices: OrderedDict[str, _Device] = OrderedDict()  # client label -> device
        self._labels: dict[str, str] = {}  # open connection id -> client label
        self._published: OrderedDict[str, float] = OrderedDict()  # trace -> perf_counter
        self._lock = threading.Lock()
        self.acks = 0  # every ack the route took, also those it could not match
        self.ignored = 0  # acks that named no update this book knows

    # ------------------------------------------------------------- inputs
    def observe(self, event: PipelineEvent) -> None:
        """The pipeline feed: remember when each update was published; forget dropped ones
        (nobody can receive them, so nobody missed them)."""
        if isinstance(event, Passed) and event.point == "put_events":
            with self._lock:
                for trace in event.trace_ids:
                    self._published[trace] = event.at
                while len(self._published) > UPDATES_KEPT:
                    self._published.popitem(last=False)
        elif isinstance(event, Dropped):
            with self._lock:
                for trace in event.trace_ids:
                    self._published.pop(trace, None)

    def joined(self, connection_id: str, label: str, name: str, at: float, epoch: float) -> None:
        """A device's connection opened (its first, or again after a drop or a rename)."""
        with self._lock:
            device = self._devices.get(label)
            if device is None:
                self._devices[label] = _Device(name, at, epoch, connection_id)
            else:
                device.name, device.connection, device.left = name, connection_id, None
                self._devices.move_to_end(label)
            self._labels[connection_id] = label
            self._forget_departed()

    def left(self, connection_id: str, at: float) -> None:
        """A device's connection closed (unless it has opened a newer one meanwhile)."""
        with self._lock:
            label = self._labels.pop(connection_id, None)
            device = self._devices.get(label) if label is not None else None
            if device is not None and device.connection == connection_id:
                device.left = at

    def ack(self, connection_id: str, body: str, at: float) -> str:
        """An ack from a device; returns the reply frame (the update's latency as measured
        here, so the phone can show it without trusting its own clock)."""
        trace = _trace_of(body)
        with self._lock:
            self.acks += 1
            label = self._labels.get(connection_id)
            device = self._devices.get(label) if label is not None else None
            published = self._published.get(trace) if trace else None
            if device is None or published is None or trace is None:
                self.ignored += 1
                return json.dumps({"type": "ack", TRACE_FIELD: trace, "latencyMs": None})
            latency = (at - published) * 1000
            device.acks.setdefault(trace, latency)
            while len(device.acks) > UPDATES_KEPT:
                device.acks.popitem(last=False)
            return json.dumps(
                {"type": "ack", TRACE_FIELD: trace, "latencyMs": round(device.acks[trace], 1)}
            )

    # ------------------------------------------------------------- outputs
    def snapshot(self, now: float) -> RoomSnapshot:
        """The room as of ``now`` (perf_counter)."""
        with self._lock:
            devices = tuple(self._row(d, now) for d in self._devices.values())
            last = next(reversed(self._published), None)
            arrivals = (
                {d.name: d.acks[last] for d in self._devices.values() if last in d.acks}
                if last is not None
                else {}
            )
        return RoomSnapshot(self.url, devices, last, arrivals)

    def _row(self, device: _Device, now: float) -> RoomDevice:
        end = min(device.left if device.left is not None else now, now - GRACE_S)
        missed = sum(
            1
            for t, at in self._published.items()
            if device.joined <= at < end and t not in device.acks
        )
        stats = percentiles(list(device.acks.values()))
        return RoomDevice(
            name=device.name,
            connected_at=device.connected_at,
            connected=device.left is None,
            received=len(device.acks),
            missed=missed,
            latency_ms={"p50": stats["p50"], "p99": stats["p99"]},
        )

    def _forget_departed(self) -> None:
        while len(self._devices) > MAX_DEVICES:
            gone = next((k for k, d in self._devices.items() if d.left is not None), None)
            self._devices.pop(gone if gone is not None else next(iter(self._devices)))


def _trace_of(body: str) -> str | None:
    try:
        message = json.loads(body)
    except ValueError:
        return None
    trace = message.get(TRACE_FIELD) if isinstance(message, dict) else None
    return trace if isinstance(trace, str) and 0 < len(trace) <= 100 else None
