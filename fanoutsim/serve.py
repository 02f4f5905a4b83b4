"""``fanoutsim serve``: keep the stack up for outside clients (a browser, the seed's
frontend, wscat, an AWS SDK or the AWS CLI) and play the scripted day.

With ``--json`` the first line printed is one JSON object with the endpoints, the region and
the credentials to use, so a script can find them; otherwise a banner shows the same and the
configuration snippet the seed's frontend reads. It runs until Ctrl-C or SIGTERM and then
closes every socket.
"""

from __future__ import annotations

import argparse
import errno
import itertools
import json
import signal
import socket
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fanoutsim import arguments, stack
from fanoutsim.errors import ConfigError
from fanoutsim.options import bind_host, reaches_others
from fanoutsim.qr import qr_text
from fanoutsim.sample_flights import sample_flights, scripted_day

__all__ = [
    "add_parser",
    "banner",
    "busy_ports",
    "describe",
    "exposure",
    "port_sentence",
    "run",
]


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    serve = sub.add_parser(
        "serve",
        help="run the stack for outside clients and play the scripted day",
        description="Keep the whole stack up for outside clients (a browser, the seed's "
        "frontend, wscat, an AWS SDK or the CLI) and publish the scripted day's updates. "
        "With --room, other devices on the network (attendees' phones) open the room page "
        "and subscribe too; the banner shows its address as a QR code.",
    )
    serve.add_argument(
        "--clients", type=arguments.count, default=0, help="simulated subscribers (0)"
    )
    serve.add_argument(
        "--interval", type=arguments.seconds, default=2.0, help="seconds between updates"
    )
    arguments.add_timing(serve)
    serve.add_argument(
        "--updates",
        type=arguments.count,
        default=None,
        help="publish N updates, then keep serving (default: play the day until stopped)",
    )
    serve.add_argument(
        "--host",
        default=None,
        help="address to listen on (default: loopback; with --room, every interface)",
    )
    serve.add_argument(
        "--room",
        action="store_true",
        help="open the room: other devices on the network open its page and subscribe",
    )
    serve.add_argument(
        "--public-host",
        metavar="NAME",
        help="the name or address to give other devices (default: the address of the "
        "interface with the default route)",
    )
    serve.add_argument(
        "--port",
        type=arguments.port,
        default=0,
        help="WebSocket port P; the HTTP side listens on P+1 and the AWS endpoint on P+2 "
        "(default: free ports)",
    )
    serve.add_argument(
        "--routes",
        choices=tuple(stack.ROUTE_SETS),
        default=None,
        help="fanoutsim (the default: subscribe, unsubscribe and $default routes) or seed "
        "(only $connect and $disconnect, as the seed's API)",
    )
    serve.add_argument(
        "--fanout",
        choices=stack.FANOUT_MODES,
        default="broadcast",
        help="broadcast (every client hears every flight, as the seed) or per-flight "
        "(clients connect with ?flightId=<a flight's id> or send a subscribe message)",
    )
    serve.add_argument(
        "--authorizer",
        action="store_true",
        help="put a token authorizer on $connect; prints a token (valid 8 hours) to connect with",
    )
    serve.add_argument(
        "--rest-auth",
        choices=("none", "iam"),
        default="none",
        help="iam: GET /flights takes only requests signed with this run's keys (SigV4), as "
        "the seed's IAM-authorised API; none (default): anyone may read the board",
    )
    serve.add_argument(
        "--preset",
        choices=("seed",),
        default=None,
        help="seed: the seed's stack setting for setting (Kinesis change feed, BatchSize 1, "
        "its filter, 256 MB and 10 s functions, 1 h connection rows, its routes)",
    )
    arguments.add_function(serve)
    serve.add_argument("--json", action="store_true", help="first line: the endpoints as JSON")


TOKEN_TTL_S = 8 * 3600  # a workshop day


def describe(
    endpoints: dict[str, str], region: str, credentials: tuple[str, str] = stack.DEFAULT_CREDENTIALS
) -> dict[str, Any]:
    """What a script needs to reach a running stack: endpoints, region, and the keys that
    management API and AWS endpoint calls must be signed with."""
    key, secret = credentials
    return {
        **endpoints,
        "region": region,
        "aws_access_key_id": key,
        "aws_secret_access_key": secret,
    }


def banner(info: dict[str, Any]) -> str:
    """The endpoints for people, with the snippet the seed's frontend reads (appconfig.js)
    and, with a room, its address as a QR code."""
    lines = []
    if info.get("room"):
        lines += [
            f"{'room':>10}: {info['room']}  (attendees: open it, or scan the code)",
            qr_text(info["room"]),
            "",
        ]
    lines += [f"{name:>10}: {info[name]}" for name in ("websocket", "management", "rest", "page")]
    lines.append(f"{'aws':>10}: {info['aws']}  (any SDK or the CLI: --endpoint-url)")
    if info.get("token"):
        lines.append(f"{'token':>10}: {info['token']}")
        lines.append(
            f"{'':>10}  connect with ?token=<it> (or Authorization: Bearer <it>); the page: "
            f"{info['page']}?token=<it>"
        )
    if info.get("fanout") == "per-flight":
        first = sample_flights()[0]
        lines.append(
            f"{'fan-out':>10}: per-flight: connect with ?flightId=<id> (repeat for more) or "
            'send {"action": "subscribe", "flightIds": ["<id>"]}; '
            f"{first.code} is {first.flight_id}"
        )
    lines += [
        "",
        f"credentials: AWS_ACCESS_KEY_ID={info['aws_access_key_id']} "
        f"AWS_SECRET_ACCESS_KEY={info['aws_secret_access_key']} "
        f"AWS_DEFAULT_REGION={info['region']}",
        "",
        "the seed's frontend (src/appconfig.js):",
        f'  region: "{info["region"]}",',
        f'  sharedEndpoint: "{info["rest"]}",',
        f'  pattern3: {{ wssEndpoint: "{info["websocket"]}" }},',
    ]
    return "\n".join(lines)


@contextmanager
def _stop_on_sigterm(stop: threading.Event) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def exposure(host: str, room: bool) -> str | None:
    """What a bind beyond loopback exposes, in one paragraph (None on loopback)."""
    if not reaches_others(host, room):
        return None
    return (
        f"fanoutsim: listening on {host}: devices that can reach this machine can open the "
        "page, connect WebSockets and read the flights; the management API and the AWS "
        "endpoint need this run's keys (printed below: share them with no one); requests "
        "naming another host are refused (421)"
    )


def _add_clients(sim: Any, n: int) -> None:
    """Broadcast: ``n`` clients. Per-flight: ``n`` clients, each following one sample
    flight in turn, so every flight has followers."""
    if sim.options.fanout != "per-flight":
        sim.clients.add(n)
        return
    flights = [f.flight_id for f in sample_flights()]
    for index, flight in enumerate(flights):
        count = n // len(flights) + (1 if index < n % len(flights) else 0)
        sim.clients.add(count, flights=[flight])


def busy_ports(host: str, ports: list[int]) -> list[int]:
    """Which of ``ports`` cannot be bound on ``host`` right now."""
    busy = []
    for port in ports:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            try:
                probe.bind((host, port))
            except OSError:
                busy.append(port)
    return busy


def port_sentence(typed: int, busy: list[int]) -> str:
    """A port clash in one sentence: the port typed, the three ``serve`` needs, the busy."""
    needed = f"{typed}, {typed + 1} and {typed + 2}"
    taken = ", ".join(map(str, busy)) or "one of them"
    return (
        f"--port {typed}: serve needs ports {needed} (WebSocket, HTTP, AWS endpoint) and "
        f"{taken} {'is' if len(busy) == 1 else 'are'} in use; choose another --port, or "
        "leave it out for free ports"
    )


@contextmanager
def _ports_named(host: str, typed: int) -> Iterator[None]:
    """Turn "address in use" while starting into :func:`port_sentence`."""
    try:
        yield
    except OSError as error:
        if error.errno != errno.EADDRINUSE or not typed:
            raise
        ports = [typed, typed + 1, typed + 2]
        raise ConfigError(port_sentence(typed, busy_ports(host, ports))) from None


def run(args: argparse.Namespace) -> int:
    from fanoutsim.aws.lambda_functions import FunctionCode
    from fanoutsim.builder import Ports
    from fanoutsim.simulator import Simulator

    host = bind_host(args.host, args.room)
    notice = exposure(host, args.room)
    if notice:
        print(notice, file=sys.stderr)
    ports = Ports(args.port, args.port + 1, args.port + 2) if args.port else Ports()
    stop = threading.Event()
    with (
        _stop_on_sigterm(stop),
        _ports_named(host, args.port),
        Simulator(
            profile=args.timing,
            routes=args.routes,
            aws_endpoint=True,
            host=host,
            ports=ports,
            room=args.room,
            public_host=args.public_host,
            fanout=args.fanout,
            authorizer=args.authorizer,
            rest_auth=args.rest_auth,
            functions=FunctionCode.parse_all(args.functions),
            preset=args.preset,
        ) as sim,
    ):
        info = {
            **describe(sim.endpoints, sim.options.region, sim.options.credentials),
            "fanout": sim.options.fanout,
        }
        if args.authorizer:
            info["token"] = sim.mint_token("attendee", ttl_s=TOKEN_TTL_S)
        print(json.dumps(info) if args.json else banner(info), flush=True)
        _add_clients(sim, args.clients)
        sim.flights.load()
        print("playing the scripted day; Ctrl-C to stop", file=sys.stderr, flush=True)
        steps = itertools.cycle(scripted_day())
        played = 0
        try:
            while not stop.is_set():
                if args.updates is None or played < args.updates:
                    flight, status, details = next(steps)
                    sim.flights.publish(flight, status, details)
                    played += 1
                    print(f"published {flight} {status} {details}".rstrip(), flush=True)
                stop.wait(args.interval)
        except KeyboardInterrupt:
            pass
    return 0
