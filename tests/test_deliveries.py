from __future__ import annotations

import threading

from fanoutsim.deliveries import Deliveries


def _outcomes(d: Deliveries) -> dict[str, int]:
    pairs = d.pairs()
    assert pairs["expected"] == sum(
        pairs[k] for k in ("delivered", "left", "undelivered", "missing")
    )
    return pairs


def test_waits_until_every_expected_client_has_the_update() -> None:
    d = Deliveries()
    d.expect("t1", ["a", "b"])
    assert not d.wait(0.01)
    d.received("t1", "a")
    assert d.outstanding() == {"t1": {"b"}}
    threading.Timer(0.02, d.received, ("t1", "b")).start()
    assert d.wait(2.0)
    assert _outcomes(d) == {
        "expected": 2,
        "delivered": 2,
        "left": 0,
        "undelivered": 0,
        "missing": 0,
    }


def test_every_pair_keeps_its_outcome_when_updates_drop_and_clients_leave() -> None:
    d = Deliveries()
    d.expect("t1", ["a", "b"])
    d.expect("t2", ["a", "c"])
    d.received("t2", "c")  # delivered before the update failed
    d.drop("t2", "handler failed")
    d.forget_clients(["b"])
    d.received("t1", "a")
    assert d.wait(0.01)
    assert _outcomes(d) == {
        "expected": 4,
        "delivered": 2,
        "left": 1,
        "undelivered": 1,
        "missing": 0,
    }
    assert d.dropped == {"t2": "handler failed"}
    d.received("t2", "a")  # a late receipt of the dropped update still counts
    assert _outcomes(d)["delivered"] == 3 and d.pairs()["undelivered"] == 0


def test_a_receipt_for_an_unknown_update_or_a_departed_client_is_ignored() -> None:
    d = Deliveries()
    d.received("nope", "a")
    d.expect("t1", ["a"])
    d.forget_clients(["a"])
    d.received("t1", "a")
    assert _outcomes(d) == {
        "expected": 1,
        "delivered": 0,
        "left": 1,
        "undelivered": 0,
        "missing": 0,
    }
