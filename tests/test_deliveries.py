from __future__ import annotations

import threading

from fanoutsim.deliveries import Deliveries


def test_waits_until_every_expected_client_has_the_update() -> None:
    d = Deliveries()
    d.expect("t1", ["a", "b"])
    assert not d.wait(0.01)
    d.received("t1", "a")
    assert d.outstanding() == {"t1": {"b"}}
    threading.Timer(0.02, d.received, ("t1", "b")).start()
    assert d.wait(2.0)
    assert d.totals() == (2, 2)


def test_dropped_updates_and_departed_clients_are_not_owed() -> None:
    d = Deliveries()
    d.expect("t1", ["a", "b"])
    d.expect("t2", ["a"])
    d.drop("t2", "handler failed")
    d.forget_clients(["b"])
    d.received("t1", "a")
    assert d.wait(0.01)
    assert d.totals() == (1, 1)
    assert d.dropped == {"t2": "handler failed"}


def test_a_receipt_for_an_unknown_update_is_ignored() -> None:
    d = Deliveries()
    d.received("nope", "a")
    assert d.totals() == (0, 0)
