"""ParallelizationFactor in the live pipeline: a shard's batches of different flights run
side by side, one flight's updates still in order.

"The number of batches to process concurrently from each shard":
https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html (DynamoDB streams alike).
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from fanoutsim.aws.esm import MappingConfig
from fanoutsim.functions import stream_fanout
from fanoutsim.sample_flights import scripted_day
from fanoutsim.simulator import Simulator


class Overlap:
    """A stream handler that counts how many of its invocations run at once. With
    ``partner_s`` it holds each invocation until another runs beside it (or that long)."""

    def __init__(self, partner_s: float) -> None:
        self.partner_s = partner_s
        self.running = self.most = 0
        self._lock = threading.Lock()
        self._paired = threading.Event()

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        with self._lock:
            self.running += 1
            self.most = max(self.most, self.running)
            if self.running > 1:
                self._paired.set()
        try:
            self._paired.wait(self.partner_s)
            return stream_fanout.handler(event, context)
        finally:
            with self._lock:
                self.running -= 1


@pytest.mark.parametrize(("factor", "partner_s", "most"), [(1, 0.05, 1), (3, 10.0, 2)])
def test_batches_run_side_by_side_up_to_the_factor(
    factor: int, partner_s: float, most: int
) -> None:
    mapping = MappingConfig(batch_size=1, parallelization_factor=factor)
    with Simulator(mapping=mapping) as sim:
        clients = sim.clients.add(2)
        sim.flights.load()
        sim.wait("delivered", timeout=60)
        handler = Overlap(partner_s)
        sim.replace_function("stream_fanout", handler)
        script = scripted_day()[:12]
        for flight, status, details in script:
            sim.flights.publish(flight, status, details)
        sim.wait("delivered", timeout=120)
        assert handler.most >= most if factor > 1 else handler.most == 1
        assert handler.most <= factor
        assert sim.stream.counters()["succeeded_records"] >= len(script)
        last = {flight: status for flight, status, _ in script}
        for client in clients:  # each flight's updates applied in order: the last one shows
            shown = {p["airlineCode"] + p["flightNum"]: p["event"] for p in client.board.values()}
            assert all(shown[flight] == status for flight, status in last.items())
