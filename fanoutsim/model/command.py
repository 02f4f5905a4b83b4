"""``fanoutsim model``: the virtual-time cost and latency model from the command line.

Example::

    fanoutsim model --subscribers 50000 --updates-per-minute 20 --payload-kb 1 \\
        --strategy broadcast [--json]

prints cost per update and per month by service, time to first and last subscriber, the
operations of one update and what binds, each number with the source of its prices and
timings. ``--json`` prints one JSON object instead (``monthly_cost_usd``,
``time_to_last_ms``, ... as in :meth:`ModelResult.to_dict`).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from fanoutsim import arguments
from fanoutsim.errors import FanoutsimError
from fanoutsim.functions.stream_fanout import DEFAULT_POST_CONCURRENCY
from fanoutsim.model.engine import simulate
from fanoutsim.model.scenario import STRATEGIES, Quotas, Scenario
from fanoutsim.timing.distributions import Distribution
from fanoutsim.timing.profiles import STREAMS, TimingProfile, load_profile

__all__ = ["add_parser", "configure", "main", "run", "scenario_from", "with_post_ms"]


def add_parser(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add the ``model`` subcommand to a CLI's subparsers."""
    parser = subparsers.add_parser(
        "model",
        help="virtual-time fan-out cost and latency for large N",
        description=(
            "Model the cost and latency of fanning flight updates out to N WebSocket "
            "subscribers on AWS, in virtual time (no sockets are opened)."
        ),
    )
    configure(parser)


def configure(parser: argparse.ArgumentParser) -> None:
    """Declare the ``model`` options on ``parser``."""
    add = parser.add_argument
    add("--subscribers", "-n", type=int, required=True, help="connected subscribers N")
    add("--updates-per-minute", type=float, default=20.0, help="status updates a minute (20)")
    add("--payload-kb", type=float, default=1.0, help="message size in KB (1)")
    add("--strategy", choices=STRATEGIES, default="broadcast", help="fan-out strategy")
    add(
        "--concurrency",
        type=int,
        default=DEFAULT_POST_CONCURRENCY,
        help=f"posts in flight per invocation ({DEFAULT_POST_CONCURRENCY}, the live handler's)",
    )
    add("--flights", type=int, default=100, help="flights updates are spread over (100)")
    add(
        "--subscriptions-per-flight",
        type=float,
        default=None,
        help="subscribers of one flight (per-flight; default subscribers / flights)",
    )
    add("--chunk-size", type=int, default=1000, help="subscribers per worker (chunked)")
    add(
        "--stream",
        choices=STREAMS,
        default="dynamodb",
        help="the table's change feed: its DynamoDB stream (default) or a Kinesis data "
        "stream, as the seed's templates use",
    )
    add("--updates", type=int, default=1000, help="updates to simulate (1000)")
    arguments.add_timing(parser, default="aws")
    add("--prices", default=None, help="price file (default: the packaged prices.toml)")
    add(
        "--post-ms",
        type=float,
        default=None,
        help="median PostToConnection latency in ms (no public figure; the profile's p99/p50 "
        "spread is kept)",
    )
    add("--lambda-timeout", type=float, default=900.0, help="function timeout in s (900)")
    add("--arch", choices=("x86_64", "arm64"), default="x86_64", help="Lambda architecture")
    add(
        "--throttle-rps",
        type=float,
        default=10_000.0,
        help="@connections account throttle in requests/s (10,000)",
    )
    add("--seed", type=int, default=0, help="random seed (0)")
    add("--json", action="store_true", help="print one JSON object")


def with_post_ms(profile: TimingProfile, median_ms: float) -> TimingProfile:
    """``profile`` with PostToConnection's median set to ``median_ms`` (same spread)."""
    current = profile.distribution("post_to_connection")
    source = f"--post-ms {median_ms:g} (a parameter: no public figure exists)"
    if current.kind != "lognormal" or median_ms <= 0:
        return profile.with_delay("post_to_connection", Distribution.fixed(median_ms, source))
    spread = current.quantile(0.99) / current.quantile(0.5)
    fitted = Distribution.lognormal({0.5: median_ms, 0.99: median_ms * spread}, source)
    return profile.with_delay("post_to_connection", fitted)


def scenario_from(args: argparse.Namespace) -> Scenario:
    """The :class:`Scenario` the parsed options describe."""
    return Scenario(
        subscribers=args.subscribers,
        updates_per_minute=args.updates_per_minute,
        payload_kb=args.payload_kb,
        strategy=args.strategy,
        concurrency=args.concurrency,
        flights=args.flights,
        subscriptions_per_flight=args.subscriptions_per_flight,
        chunk_size=args.chunk_size,
        updates=args.updates,
        lambda_timeout_s=args.lambda_timeout,
        architecture=args.arch,
        quotas=Quotas(connections_rps=args.throttle_rps),
        stream=args.stream,
    )


def run(args: argparse.Namespace) -> int:
    """Run the model for parsed ``args``; print the result; return the exit status."""
    try:
        profile = load_profile(args.timing)
        if args.post_ms is not None:
            profile = with_post_ms(profile, args.post_ms)
        result = simulate(scenario_from(args), profile, args.prices, seed=args.seed)
    except FanoutsimError as error:
        print(f"fanoutsim model: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result.to_dict(), allow_nan=False))
    else:
        print(result.summary())
    return 0


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry (``python -m fanoutsim.model.command``)."""
    parser = argparse.ArgumentParser(prog="fanoutsim model")
    configure(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
