"""Benchmark: offered load from 0.5x to 4x the measured capacity; does the pipeline slow
down gracefully (throughput kept, no duplicates) or melt down?

    python bench/overload.py [--clients 100] [--seconds 20]

Capacity is measured first in the same run: a burst of updates to the clients, timed
until every delivery has arrived (deliveries per second). Then, for each multiple of it,
updates are published at that rate for ``--seconds`` and the run is timed until every
delivery arrived. Printed per level: deliveries, duplicates (share of deliveries), and the
delivered throughput as a ratio to the 1x level. Targets: at 4x, throughput at least 0.9x
that of 1x; duplicates under 1% with no fault injected.
"""

from __future__ import annotations

import argparse
import time

from fanoutsim import Simulator
from fanoutsim.sample_flights import scripted_day


def _run(clients: int, rate: float, seconds: float) -> tuple[int, int, float]:
    """(deliveries, duplicates, deliveries per second until all arrived)."""
    with Simulator() as sim:
        sim.clients.add(clients)
        sim.flights.load()
        steps = scripted_day()
        start, published = time.perf_counter(), 0
        while time.perf_counter() - start < seconds:
            flight, status, details = steps[published % len(steps)]
            sim.flights.publish(flight, status, details)
            published += 1
            time.sleep(max(0.0, start + published / rate - time.perf_counter()))
        sim.wait(timeout=900)
        elapsed = time.perf_counter() - start
        deliveries = sim.report().to_dict()["deliveries"]
        delivered = published * clients
        return delivered, deliveries["duplicates"], delivered / elapsed


def _capacity(clients: int) -> float:
    """Deliveries per second for a burst of 30 updates, measured here."""
    with Simulator() as sim:
        sim.clients.add(clients)
        sim.flights.load()
        start = time.perf_counter()
        for flight, status, details in scripted_day()[:30]:
            sim.flights.publish(flight, status, details)
        sim.wait(timeout=600)
        return 30 * clients / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    capacity = _capacity(args.clients)
    print(
        f"capacity (burst, measured here): {capacity:,.0f} deliveries/s "
        f"= {capacity / args.clients:.1f} updates/s to {args.clients} clients"
    )
    rows = {}
    for multiple in (0.5, 1.0, 2.0, 4.0):
        rate = multiple * capacity / args.clients
        rows[multiple] = _run(args.clients, rate, args.seconds)
    base = rows[1.0][2]
    print(
        f"{'offered':>8}{'deliveries':>12}{'duplicates':>12}{'dup %':>8}{'deliv/s':>10}{'vs 1x':>8}"
    )
    for multiple, (delivered, duplicates, throughput) in rows.items():
        share = 100 * duplicates / max(delivered, 1)
        print(
            f"{multiple:>7.1f}x{delivered:>12,}{duplicates:>12,}{share:>7.2f}%"
            f"{throughput:>10,.0f}{throughput / base:>7.2f}x"
        )


if __name__ == "__main__":
    main()
