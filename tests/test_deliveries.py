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


def test_settled_updates_keep_counts_not_names() -> None:
    """A long run must not hold one name per delivered pair: 2,000 updates to 100 clients
    each, all delivered or left, retain well under a byte per pair."""
    import gc
    import tracemalloc

    clients = [f"client-{n}" for n in range(100)]
    d = Deliveries()
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for n in range(2_000):
        trace = f"trace-{n}"
        d.expect(trace, clients)
        for name in clients[:-1]:
            d.received(trace, name)
    d.forget_clients(clients[-1:])
    gc.collect()
    retained = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert _outcomes(d) == {
        "expected": 200_000,
        "delivered": 198_000,
        "left": 2_000,
        "undelivered": 0,
        "missing": 0,
    }
    assert retained < 200_000, f"{retained} bytes kept for 200,000 settled pairs"


def test_each_update_is_reported_settled_once_it_owes_nothing_more() -> None:
    d = Deliveries()
    settled: list[str] = []
    d.on_settled = settled.append
    d.expect("received", ["a", "b"])
    d.expect("left", ["a", "c"])
    d.expect("dropped", ["a"])
    d.received("received", "a")
    d.received("left", "a")
    assert settled == []
    d.received("received", "b")
    d.forget_clients(["c"])
    d.drop("dropped", "handler failed")
    assert settled == ["received", "left", "dropped"]
