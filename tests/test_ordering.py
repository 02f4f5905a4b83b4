"""Statuses of one flight published in quick succession, delivered out of order (as
EventBridge may: it guarantees no order, and each event runs in its own invocation): the
board ends on the status published last, and the late one is accounted for, not missing;
with the seed's unordered writes the late one wins, as on the seed's stack.

Source: https://repost.aws/questions/QUDxAa0fS4TNus4mLxZpUjEw/aws-event-bridge (AWS's
accepted answer: EventBridge does not guarantee the order of events; ordered delivery needs
SQS FIFO or Kinesis).
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from fanoutsim.functions import flight_events
from fanoutsim.simulator import Simulator
from tests.sample_ids import FS101

SEQUENCE = (("BOARDING", "Group 1"), ("DEPARTURE_DELAYED", "Crew late"), ("TOOK_OFF", ""))


def _last_takes_off_first(sim: Simulator) -> None:
    """flight_events holds BOARDING until TOOK_OFF has been written: the deliveries run out
    of order, deterministically (no timing involved)."""
    took_off = threading.Event()

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        status = event.get("detail", {}).get("event")
        if status == "BOARDING":
            assert took_off.wait(10), "TOOK_OFF was never written"
        result = flight_events.handler(event, context)
        if status == "TOOK_OFF":
            took_off.set()
        return result

    sim.replace_function("flight_events", handler)


@pytest.mark.parametrize(
    ("seed_bugs", "final"), [((), "TOOK_OFF"), (("unordered-status-writes",), "BOARDING")]
)
def test_the_board_ends_on_the_last_status_published(
    seed_bugs: tuple[str, ...], final: str
) -> None:
    with Simulator(seed_bugs=seed_bugs) as sim:
        sim.clients.add(3)
        sim.flights.load()
        _last_takes_off_first(sim)
        traces = [sim.flights.publish("FS101", status, details) for status, details in SEQUENCE]
        sim.wait()
        sim.wait("idle")
        boards = sim.clients.boards()
        assert {board[FS101]["event"] for board in boards.values()} == {final}
        (row,) = [f for f in sim.flights.rows() if f["flightId"] == FS101]
        assert row["event"] == final
        report = sim.report().to_dict()
        assert report["deliveries"]["missing"] == 0
        if not seed_bugs:  # the late BOARDING wrote nothing and says why
            assert "superseded" in report["dropped_updates"][traces[0]]
