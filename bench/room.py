"""Benchmark: the room at scale. Headless Chromium pages stand in for the audience's phones
(the room page at 390x844, each its own browser context), beside simulated clients, all on
one stack bound to 127.0.0.2 (loopback, not the default address: what the room
advertises).

    python bench/room.py [--pages 20 100] [--clients 1000] [--updates 10]

For each page count: publish the updates one at a time, wait until every page has
acknowledged each, and report per update the time from PutEvents to the *last* device's
acknowledgement (sim.room()) and to the last simulated client's receipt (the tracer), p50
and p99 over the updates, and their ratio (the baseline: the simulated clients, measured
in the same run on the same stack). Also: RSS of this process, the browser's pages open,
missed updates. Nothing leaves this machine.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fanoutsim.simulator import Simulator
from fanoutsim.stats import percentiles
from tests.browser_support import chromium_browser

PHONE = {"width": 390, "height": 844}


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _wait(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.05)


def run(pages: int, clients: int, updates: int) -> dict[str, Any]:
    with Simulator(room=True, host="127.0.0.2") as sim, chromium_browser() as browser:
        sim.clients.add(clients)
        sim.flights.load()
        opened = []
        started = time.perf_counter()
        for i in range(pages):
            page = browser.new_context(viewport=PHONE, is_mobile=True).new_page()
            page.goto(f"{sim.endpoints['room']}")
            page.fill("#name", f"phone-{i:03d}")
            page.click("#who button")
            opened.append(page)
        _wait(lambda: sim.room().connected == pages, 120, "pages did not all join")
        join_s = time.perf_counter() - started
        to_last_device, to_last_client = [], []
        for n in range(updates):
            trace = sim.flights.publish("FS101", "BOARDING", f"Group {n}")
            sim.wait(timeout=120)
            _wait(lambda: len(sim.room().last_arrivals) == pages, 120, "acks missing")
            snap = sim.room()
            to_last_device.append(max(snap.last_arrivals.values()))
            timeline = sim.timeline(trace)
            start = timeline.points["put_events"]
            to_last_client.append(
                max(timeline.per_connection["receipt"].values(), default=start) * 1000
                - start * 1000
            )
        missed = sum(d.missed for d in sim.room().devices)
        for page in opened:
            page.context.close()
        device, client = percentiles(to_last_device), percentiles(to_last_client)
        return {
            "pages": pages,
            "clients": clients,
            "join_s": join_s,
            "device": device,
            "client": client,
            "ratio_p50": (device["p50"] or 0) / (client["p50"] or 1),
            "ratio_median_per_update": statistics.median(
                d / c for d, c in zip(to_last_device, to_last_client, strict=True) if c
            ),
            "missed": missed,
            "rss_mb": _rss_mb(),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, nargs="+", default=[20, 100])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--updates", type=int, default=10)
    args = parser.parse_args()
    print(
        f"{'pages':>6}{'clients':>9}{'join s':>8}{'last device p50/p99 ms':>26}"
        f"{'last client p50/p99 ms':>26}{'ratio p50':>11}{'missed':>8}{'RSS MB':>8}"
    )
    for pages in args.pages:
        r = run(pages, args.clients, args.updates)
        d, c = r["device"], r["client"]
        print(
            f"{r['pages']:>6}{r['clients']:>9}{r['join_s']:>8.1f}"
            f"{d['p50']:>15.1f} / {d['p99']:>8.1f}{c['p50']:>15.1f} / {c['p99']:>8.1f}"
            f"{r['ratio_p50']:>11.2f}{r['missed']:>8}{r['rss_mb']:>8.0f}",
            flush=True,
        )
    print("ratio: the last device's time over the last simulated client's, same run, same stack")


if __name__ == "__main__":
    main()
