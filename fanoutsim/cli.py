"""Command line: ``fanoutsim demo`` runs the live pipeline, ``fanoutsim serve`` keeps it up
for a browser, ``fanoutsim model`` sizes it, ``fanoutsim compare`` sets it against the other
push patterns, and ``template``, ``deploy``, ``calibrate`` and ``teardown`` take it to AWS."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from tqdm import tqdm

import fanoutsim.deploy.command as deploy_command
import fanoutsim.model.command as model_command
import fanoutsim.model.compare_command as compare_command
from fanoutsim import arguments, doctor, serve
from fanoutsim.errors import FanoutsimError
from fanoutsim.functions.flight_model import flight_code
from fanoutsim.sample_flights import scripted_day

__all__ = ["DESCRIPTION", "board_table", "build_parser", "main", "run_demo"]

#: What ``--help`` says, without the docstring's markup.
DESCRIPTION = (
    "The API Gateway WebSockets fan-out pattern, simulated on moto: demo runs the live "
    "pipeline, serve keeps it up for a browser (and a room of phones), doctor checks this "
    "machine, model sizes it, compare sets it against the other push patterns, and template, "
    "deploy, calibrate and teardown take it to AWS."
)


def _add_demo(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    demo = sub.add_parser(
        "demo",
        help="run the live pipeline on moto with real WebSockets",
        description="Connect simulated clients over real WebSockets, load the sample "
        "flights, publish status updates through EventBridge, DynamoDB and its stream to "
        "every client, then print the report: deliveries, per-stage latency, usage, cost.",
    )
    demo.add_argument(
        "--clients", type=arguments.positive, default=50, help="subscribers (default 50)"
    )
    demo.add_argument(
        "--updates", type=arguments.positive, default=10, help="flight updates (default 10)"
    )
    arguments.add_timing(demo)
    demo.add_argument(
        "--transport",
        choices=("http", "in-process"),
        default="http",
        help="how the stream handler reaches the management API",
    )
    arguments.add_function(demo)
    demo.add_argument("--json", action="store_true", help="print the report as JSON")


def board_table(board: dict[str, dict[str, Any]], changed: str | None = None) -> str:
    """A client's flight board as a text table, as its page would show it; the row of
    flight ``changed`` (its code, e.g. ``FS101``) is marked. The gate and terminal are the
    scheduled ones: a status update carries only the status and its details (the seed's
    model)."""
    columns = ("flight", "route", "gate", "terminal", "status", "details", "updated")
    rows = [
        (
            flight_code(p, flight_id),
            f"{p.get('origin', '?')}->{p.get('dest', '?')}",
            str(p.get("gate", "")),
            str(p.get("terminal", "")),
            str(p.get("event", "")),
            str(p.get("eventDetails", "")),
            str(p.get("updatedAt", ""))[11:19],
        )
        for flight_id, p in board.items()
    ]
    rows.sort()
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(columns)]
    lines = ["  " + "  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    for row in rows:
        mark = "> " if row[0] == changed else "  "
        lines.append(mark + "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))
    return "\n".join(line.rstrip() for line in lines)


def run_demo(args: argparse.Namespace) -> int:
    from fanoutsim.aws.lambda_functions import FunctionCode
    from fanoutsim.simulator import Simulator

    script = scripted_day()
    functions = FunctionCode.parse_all(args.functions)
    with Simulator(profile=args.timing, transport=args.transport, functions=functions) as sim:
        progress = not args.json and sys.stderr.isatty()
        with tqdm(
            total=args.clients, desc="connecting", unit="client", disable=not progress
        ) as bar:
            for start in range(0, args.clients, 50):
                bar.update(len(sim.clients.add(min(50, args.clients - start))))
        sim.flights.load()
        last = script[0]
        with tqdm(
            total=args.updates, desc="publishing", unit="update", disable=not progress
        ) as bar:
            for i in range(args.updates):
                last = script[i % len(script)]
                sim.flights.publish(*last)
                sim.wait()
                bar.update()
        sim.wait("idle")
        report = sim.report()
        name, first = next(iter(sim.clients.items()))
        board = dict(first.board)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, default=str))
    else:
        print(report)
        flight_id, status, details = last
        print(f"\nthe last update: {flight_id} {status} {details!r}; client {name}'s board:")
        print(board_table(board, changed=flight_id))
    deliveries = report.to_dict()["deliveries"]
    return 0 if deliveries["missing"] == 0 else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fanoutsim", description=DESCRIPTION)
    sub = parser.add_subparsers(dest="command", required=True)
    _add_demo(sub)
    serve.add_parser(sub)
    doctor.add_parser(sub)
    model_command.add_parser(sub)
    compare_command.add_parser(sub)
    deploy_command.add_parsers(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "demo":
            return run_demo(args)
        if args.command == "serve":
            return serve.run(args)
        if args.command == "doctor":
            return doctor.run(args)
        if args.command == "compare":
            return compare_command.run(args)
        if args.command in deploy_command.COMMANDS:
            return deploy_command.run(args)
        return int(model_command.run(args))
    except (FanoutsimError, ValueError) as error:
        print(f"fanoutsim: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
