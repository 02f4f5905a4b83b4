"""The room's book: acknowledgements become per-device latencies on one clock, updates
published while a device was connected and never acknowledged count as missed after the
grace period, dropped updates are owed by nobody, and everything stays bounded."""

from __future__ import annotations

import json

import pytest

from fanoutsim import room
from fanoutsim.feed import Dropped, Passed
from fanoutsim.room import GRACE_S, RoomBook, clean_name


def _published(book: RoomBook, trace: str, at: float) -> None:
    book.observe(Passed("put_events", (trace,), at))


def _ack(book: RoomBook, connection: str, trace: str, at: float) -> dict[str, object]:
    reply: dict[str, object] = json.loads(
        book.ack(connection, json.dumps({"action": "ack", "traceId": trace}), at)
    )
    return reply


def test_an_ack_measures_from_put_events_on_this_machines_clock() -> None:
    book = RoomBook("http://h:1/room")
    book.joined("c1", "c1", "Alice", at=100.0, epoch=1.7e9)
    _published(book, "t1", 101.0)
    assert _ack(book, "c1", "t1", 101.25) == {"type": "ack", "traceId": "t1", "latencyMs": 250.0}
    snap = book.snapshot(now=102.0)
    (alice,) = snap.devices
    assert (alice.name, alice.received, alice.missed, alice.connected) == ("Alice", 1, 0, True)
    assert alice.latency_ms["p50"] == pytest.approx(250.0)
    assert snap.last_update == "t1" and snap.last_arrivals == {"Alice": pytest.approx(250.0)}
    assert snap.to_dict()["connected"] == 1


def test_a_repeated_ack_keeps_the_first_arrival() -> None:
    book = RoomBook()
    book.joined("c1", "c1", "A", 0.0, 0.0)
    _published(book, "t1", 1.0)
    _ack(book, "c1", "t1", 1.1)
    _ack(book, "c1", "t1", 5.0)
    (device,) = book.snapshot(2.0).devices
    assert device.received == 1 and device.latency_ms["p99"] == pytest.approx(100.0)


def test_unacknowledged_updates_are_missed_only_after_the_grace_period() -> None:
    book = RoomBook()
    book.joined("c1", "c1", "A", 0.0, 0.0)
    _published(book, "before-join", -1.0)
    _published(book, "t1", 1.0)
    assert book.snapshot(1.0 + GRACE_S - 0.1).devices[0].missed == 0
    assert book.snapshot(1.0 + GRACE_S + 0.1).devices[0].missed == 1
    book.left("c1", 2.0)
    _published(book, "after-leaving", 3.0)
    device = book.snapshot(100.0).devices[0]
    assert device.missed == 1 and not device.connected


def test_a_dropped_update_is_missed_by_nobody() -> None:
    book = RoomBook()
    book.joined("c1", "c1", "A", 0.0, 0.0)
    _published(book, "t1", 1.0)
    book.observe(Dropped(("t1",), "no rule matched"))
    assert book.snapshot(100.0).devices[0].missed == 0


def test_acks_for_unknown_updates_or_devices_are_counted_and_ignored() -> None:
    book = RoomBook()
    book.joined("c1", "c1", "A", 0.0, 0.0)
    assert _ack(book, "c1", "never-published", 1.0)["latencyMs"] is None
    assert _ack(book, "stranger", "x", 1.0)["latencyMs"] is None
    assert json.loads(book.ack("c1", "not json", 1.0))["latencyMs"] is None
    assert (book.acks, book.ignored) == (3, 3)
    assert book.snapshot(2.0).devices[0].received == 0


def test_names_are_printable_and_short() -> None:
    assert clean_name("  Bob\x00\n ", "room-1") == "Bob"
    assert clean_name("", "room-1") == "room-1"
    assert len(clean_name("x" * 100, "f")) == room.MAX_NAME


def test_the_book_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(room, "MAX_DEVICES", 3)
    monkeypatch.setattr(room, "UPDATES_KEPT", 4)
    book = RoomBook()
    for i in range(5):
        book.joined(f"c{i}", f"c{i}", f"d{i}", 0.0, 0.0)
        book.left(f"c{i}", 0.5)
    book.joined("live", "live", "live", 0.0, 0.0)
    for i in range(10):
        _published(book, f"t{i}", 1.0 + i)
        _ack(book, "live", f"t{i}", 1.5 + i)
    names = [d.name for d in book.snapshot(20.0).devices]
    assert len(names) == 3 and "live" in names
    live = next(d for d in book.snapshot(20.0).devices if d.name == "live")
    assert live.received == 4


def test_a_device_that_reconnects_or_renames_itself_stays_one_row() -> None:
    book = RoomBook()
    book.joined("conn-1", "room-ab", "room-ab", 0.0, 0.0)
    _published(book, "t1", 1.0)
    _ack(book, "conn-1", "t1", 1.1)
    book.joined("conn-2", "room-ab", "Ada", 2.0, 0.0)  # typed a name: a new connection
    book.left("conn-1", 2.1)  # the old connection's close arrives after the new one opened
    _published(book, "t2", 3.0)
    _ack(book, "conn-2", "t2", 3.2)
    (device,) = book.snapshot(20.0).devices
    assert (device.name, device.received, device.missed, device.connected) == ("Ada", 2, 0, True)
    book.left("conn-2", 4.0)
    _published(book, "t3", 5.0)  # while away: missed
    book.joined("conn-3", "room-ab", "Ada", 6.0, 0.0)
    (device,) = book.snapshot(30.0).devices
    assert (device.missed, device.connected) == (1, True)
