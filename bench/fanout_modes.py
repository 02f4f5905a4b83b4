"""Benchmark: broadcast against per-flight fan-out, live and modelled, side by side.

    python bench/fanout_modes.py [--clients 1000] [--flights 50] [--updates 10]

The clients are spread evenly over the flights (scheduled before anyone connects, so only
the status updates are counted). For each mode it prints the PostToConnection calls per
update and the run's WebSocket message cost (counted live, priced by the price file), the
wall time of the updates, and the model's posts per update and monthly bill (aws profile,
price file, 20 updates a minute). The baseline is broadcast, measured in the same run:
each per-flight figure is also printed as a ratio to it.
"""

from __future__ import annotations

import argparse
import time

from fanoutsim.notebook import beyond


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--flights", type=int, default=50)
    parser.add_argument("--updates", type=int, default=10)
    args = parser.parse_args()
    started = time.perf_counter()
    live = beyond.live_modes(args.clients, args.flights, args.updates)
    elapsed = time.perf_counter() - started
    modelled, monthly = beyond.modelled_modes(args.clients, args.flights)
    print(f"{args.clients} clients over {args.flights} flights, {args.updates} updates")
    print(f"{'mode':<12}{'posts/update':>14}{'USD/update':>14}{'model posts':>13}{'USD/month':>12}")
    for run, model in zip(live, modelled, strict=True):
        print(
            f"{run.mode:<12}{run.posts_per_update:>14.1f}{run.gateway_usd_per_update:>14.8f}"
            f"{model.posts_per_update:>13.1f}{monthly[run.mode]:>12.2f}"
        )
    base, flight = live[0], live[1]
    print(
        f"per-flight / broadcast: posts {flight.posts_per_update / base.posts_per_update:.3f}x, "
        f"monthly bill {monthly['per-flight'] / monthly['broadcast']:.3f}x "
        f"(both live runs took {elapsed:.0f} s here)"
    )


if __name__ == "__main__":
    main()
