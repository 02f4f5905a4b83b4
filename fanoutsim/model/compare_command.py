"""``fanoutsim compare``: which push pattern at my size, from the command line.

Example::

    fanoutsim compare --subscribers 10000 --updates-per-minute 20 [--payload-kb 1]
        [--flights 100 --subscriptions-per-flight 50] [--coalesce-s 5] [--json]

prints one row per pattern (cost a month, p50/p99 to the last subscriber, whether it works
at default quotas) and a verdict; ``--json`` prints every figure with its source.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from fanoutsim import arguments
from fanoutsim.errors import FanoutsimError
from fanoutsim.model.compare import compare, context
from fanoutsim.model.patterns import PATTERNS
from fanoutsim.model.scenario import STRATEGIES

__all__ = ["add_parser", "configure", "main", "run"]


def add_parser(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add the ``compare`` subcommand to a CLI's subparsers."""
    parser = subparsers.add_parser(
        "compare",
        help="which push pattern at my size: the seed's five patterns side by side",
        description=(
            "Compare API Gateway WebSockets, AppSync Events, AppSync GraphQL, IoT Core and "
            "polling for N subscribers: monthly cost, time to the last subscriber and the "
            "quotas that bind, each figure with its source."
        ),
    )
    configure(parser)


def configure(parser: argparse.ArgumentParser) -> None:
    """Declare the ``compare`` options on ``parser``."""
    add = parser.add_argument
    add("--subscribers", "-n", type=int, required=True, help="connected subscribers N")
    add("--updates-per-minute", type=float, default=20.0, help="status updates a minute (20)")
    add("--payload-kb", type=float, default=1.0, help="update size in KB (1)")
    add("--flights", type=int, default=100, help="flights on the board (100)")
    add(
        "--subscriptions-per-flight",
        type=float,
        default=None,
        help="subscribers of one flight: per-flight channels/topics (default: broadcast)",
    )
    add("--coalesce-s", type=float, default=0.0, help="hold updates this long, send as one (0)")
    add("--poll-interval-s", type=float, default=None, help="polling interval (the seed's 15)")
    add(
        "--max-delay-s",
        type=float,
        default=None,
        help="freshness target: a pattern slower to the last subscriber (p50) does not count",
    )
    add("--apigw-strategy", choices=STRATEGIES, default=None, help="Pattern 3 fan-out strategy")
    add("--free-tier", action="store_true", help="subtract the AWS Free Tier allowances")
    add("--patterns", default=None, help=f"comma-separated subset of {', '.join(PATTERNS)}")
    arguments.add_timing(parser, default="aws")
    add("--prices", default=None, help="price file (default: the packaged prices.toml)")
    add("--stages", default=None, help="pattern stage file (default: pattern_stages.toml)")
    add("--updates", type=int, default=1000, help="updates simulated for Pattern 3 (1000)")
    add("--seed", type=int, default=0, help="random seed (0)")
    add("--json", action="store_true", help="print one JSON object")


def run(args: argparse.Namespace) -> int:
    """Compare for parsed ``args``; print the table or JSON; return the exit status."""
    try:
        result = compare(
            args.subscribers,
            args.updates_per_minute,
            payload_kb=args.payload_kb,
            flights=args.flights,
            subscriptions_per_flight=args.subscriptions_per_flight,
            coalesce_s=args.coalesce_s,
            free_tier=args.free_tier,
            apigw_strategy=args.apigw_strategy,
            poll_interval_s=args.poll_interval_s,
            max_delay_s=args.max_delay_s,
            updates=args.updates,
            seed=args.seed,
            patterns=args.patterns.split(",") if args.patterns else None,
            ctx=context(args.prices, args.timing, args.stages),
        )
    except FanoutsimError as error:
        print(f"fanoutsim compare: {error}", file=sys.stderr)
        return 2
    print(json.dumps(result.to_dict(), allow_nan=False) if args.json else result.table())
    return 0


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry (``python -m fanoutsim.model.compare_command``)."""
    parser = argparse.ArgumentParser(prog="fanoutsim compare")
    configure(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
