"""Start, use and close, many times and on a busy machine: nothing hangs, nothing leaks,
and a closed simulator refuses every verb that acts instead of reaching for real AWS."""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from fanoutsim.errors import SimulatorError
from fanoutsim.faults import FaultPlan
from fanoutsim.simulator import Simulator


def _burn() -> None:  # pragma: no cover - runs in a child process until terminated
    while True:
        pass


@contextmanager
def busy_cpus(count: int | None = None) -> Iterator[None]:
    """Keep every core busy with other work, as on a trainee's laptop."""
    context = multiprocessing.get_context("spawn")
    burners = [
        context.Process(target=_burn, daemon=True) for _ in range(count or os.cpu_count() or 2)
    ]
    for burner in burners:
        burner.start()
    try:
        yield
    finally:
        for burner in burners:
            burner.terminate()
        for burner in burners:
            burner.join(10)


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else 0


def test_start_load_publish_close_cycles_on_busy_cpus_never_hang_or_duplicate() -> None:
    """Before the moto stream hook, one cycle in about eight hung in flights.load() (two
    concurrent flight writes got the same stream sequence number and the poller re-read
    one record forever), and boards showed duplicates with no fault injected."""
    with busy_cpus():
        with Simulator() as warm_up:  # imports and first-use caches are not leaks
            warm_up.flights.load()
        threads, fds = threading.active_count(), _open_fds()
        for cycle in range(10):
            with Simulator(seed=cycle) as sim:
                sim.clients.add(3)
                sim.flights.load()
                for i in range(3):
                    sim.flights.publish("FS101", "BOARDING", f"group {i}")
                sim.wait("settled", timeout=60)
                duplicates = {n: c.duplicates for n, c in sim.clients.items()}
                assert set(duplicates.values()) == {0}, f"cycle {cycle}: {duplicates}"
                assert sim.report().to_dict()["deliveries"]["missing"] == 0
        assert threading.active_count() <= threads
        assert _open_fds() <= fds


VERBS: list[tuple[str, Callable[[Simulator], Any]]] = [
    ("flights.publish", lambda s: s.flights.publish("FS101", "BOARDING")),
    (
        "flights.put_events",
        lambda s: s.flights.put_events([{"Source": "x", "DetailType": "y", "Detail": "{}"}]),
    ),
    ("clients.add", lambda s: s.clients.add(1)),
    ("flights.load", lambda s: s.flights.load()),
    ("connections", lambda s: s.connections()),
    ("flights.rows", lambda s: s.flights.rows()),
    ("wait", lambda s: s.wait("idle")),
    ("faults", lambda s: setattr(s, "faults", FaultPlan(fail_posts=1))),
    ("clients.sever", lambda s: s.clients.sever(["c00001"])),
    ("on_change", lambda s: s.on_change(print)),
]


@pytest.mark.parametrize(("name", "verb"), VERBS, ids=[name for name, _ in VERBS])
def test_a_closed_simulator_refuses_every_acting_verb(
    name: str, verb: Callable[[Simulator], Any]
) -> None:
    sim = Simulator()
    sim.clients.add(1)
    trace = sim.flights.publish("FS101", "BOARDING")
    sim.close()
    method = name.rpartition(".")[2]
    with pytest.raises(SimulatorError, match=rf"closed: {method}\b"):
        verb(sim)
    # the run's records stay readable
    assert sim.report().to_dict()["updates"] == 1
    assert sim.flights.latest == trace
    sim.close()  # closing twice is harmless


def test_a_second_simulator_in_a_script_is_refused_saying_how_to_close_the_first() -> None:
    with Simulator(), pytest.raises(SimulatorError, match=r"sim\.close\(\)"):
        Simulator()


def test_run_all_again_in_a_notebook_kernel_closes_the_earlier_runs_simulator(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from fanoutsim import one_at_a_time

    monkeypatch.setattr(one_at_a_time, "in_notebook_kernel", lambda: True)
    first = Simulator()
    try:
        with Simulator() as second:
            assert first.closed and not second.closed
        assert "closed the simulator an earlier run of this notebook left open" in (
            capsys.readouterr().out
        )
    finally:
        first.close()
