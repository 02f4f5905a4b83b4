"""Benchmark: the virtual-time model at 1,000,000 subscribers x 1,000 updates per strategy.

That is 10^9 deliveries per strategy. Targets: under 5 s and under 2 GB peak memory each.
Every strategy runs in its own child process so its peak resident memory (ru_maxrss) is its
own. The baseline, measured in the same run and the same way, is the cheapest per-delivery
simulation imaginable: a plain numpy pass drawing 10^9 exponential samples (one per
delivery) in chunks of 10^7 and summing them. The ratio says how many times faster the
model is than merely drawing one random number per delivery.

    .venv/bin/python bench/model_scale.py [--subscribers N] [--updates U]

Per-flight is run with a single flight (every subscriber follows it) so that it, too,
simulates 10^9 deliveries; chunked uses 1,000 subscribers per worker; every strategy posts
with concurrency 10, 1 KB payloads, under the ``aws`` profile, at 0.5 updates a minute by
default: the most the default 10,000/s @connections throttle sustains at a million
subscribers (``--updates-per-minute 20`` shows the overloaded case).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from typing import Any

STRATEGIES = ("broadcast", "per-flight", "chunked")
TARGET_S = 5.0
TARGET_MB = 2048.0


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def baseline(deliveries: int) -> dict[str, Any]:
    """Draw ``deliveries`` exponential samples in chunks of 10^7 and sum them."""
    import numpy as np

    rng = np.random.default_rng(0)
    chunk = np.empty(10_000_000)
    total, left = 0.0, deliveries
    start = time.perf_counter()
    while left > 0:
        part = chunk[: min(left, chunk.size)]
        rng.standard_exponential(out=part)
        total += float(part.sum())
        left -= part.size
    seconds = time.perf_counter() - start
    return {
        "name": "baseline",
        "seconds": seconds,
        "deliveries": deliveries,
        "peak_mb": _peak_mb(),
        "check": total / deliveries,
    }


def one(strategy: str, subscribers: int, updates: int, per_minute: float) -> dict[str, Any]:
    """Run the model once for ``strategy`` and report time, memory and a few results."""
    from fanoutsim.model.engine import simulate
    from fanoutsim.model.scenario import Scenario
    from fanoutsim.timing.profiles import load_profile

    profile = load_profile("aws")
    scenario = Scenario(
        subscribers=subscribers,
        updates=updates,
        updates_per_minute=per_minute,
        strategy=strategy,
        concurrency=10,
        flights=1 if strategy == "per-flight" else 100,
    )
    start = time.perf_counter()
    result = simulate(scenario, profile, seed=1)
    seconds = time.perf_counter() - start
    last = result.time_to_last()
    return {
        "name": strategy,
        "seconds": seconds,
        "deliveries": result.deliveries,
        "peak_mb": _peak_mb(),
        "monthly_usd": result.cost_per_month["total"],
        "time_to_last_p50_ms": last["p50"],
        "method": "exact" if result.exact else "order-statistics",
    }


def _child(args: list[str]) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, *args], check=True, capture_output=True, text=True
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=1_000_000)
    parser.add_argument("--updates", type=int, default=1_000)
    parser.add_argument("--updates-per-minute", type=float, default=0.5)
    parser.add_argument("--child", choices=(*STRATEGIES, "baseline"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    size = [
        "--subscribers",
        str(args.subscribers),
        "--updates",
        str(args.updates),
        "--updates-per-minute",
        str(args.updates_per_minute),
    ]
    if args.child == "baseline":
        print(json.dumps(baseline(args.subscribers * args.updates)))
        return 0
    if args.child:
        print(json.dumps(one(args.child, args.subscribers, args.updates, args.updates_per_minute)))
        return 0

    print(
        f"model_scale: {args.subscribers:,} subscribers x {args.updates:,} updates "
        f"= {args.subscribers * args.updates:,} deliveries per strategy "
        f"({args.updates_per_minute:g} updates/min, concurrency 10, aws profile)"
    )
    base = _child([*size, "--child", "baseline"])
    base_rate = base["deliveries"] / base["seconds"]
    print(
        f"baseline  numpy: draw and sum {base['deliveries']:,} exponentials in chunks "
        f"of 10^7: {base['seconds']:.2f} s, {base_rate:,.0f} samples/s, "
        f"peak {base['peak_mb']:,.0f} MB"
    )
    failed = False
    for strategy in STRATEGIES:
        r = _child([*size, "--child", strategy])
        rate = r["deliveries"] / r["seconds"]
        ok = r["seconds"] < TARGET_S and r["peak_mb"] < TARGET_MB
        failed |= not ok
        p50 = r["time_to_last_p50_ms"]
        last = "never (timeout)" if p50 is None or p50 == float("inf") else f"{p50 / 1000:,.1f} s"
        print(
            f"{strategy:<10}{r['seconds']:>7.2f} s  {rate:>16,.0f} deliveries/s  "
            f"peak {r['peak_mb']:>6,.0f} MB  x{rate / base_rate:,.1f} vs baseline  "
            f"[{'ok' if ok else 'OVER TARGET'}]  ({r['method']}; ${r['monthly_usd']:,.0f}/month, "
            f"time-to-last p50 {last})"
        )
    print(f"targets: < {TARGET_S:g} s and < {TARGET_MB:,.0f} MB per strategy")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
