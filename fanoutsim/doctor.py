"""``fanoutsim doctor``: is this machine ready for the workshop? One line per check, and
for each problem the fix.

Checks the Python version, the packages (those ``fanoutsim demo`` needs, then those the
notebooks need), the ports ``serve`` would take, a WebSocket round trip on loopback, an
address other devices could reach (for the room), and a simulator delivering one update.
Nothing leaves this machine: the round trip and the simulator stay on loopback, and the
address is read from the interfaces, never dialled.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from fanoutsim import arguments
from fanoutsim.addresses import advertised_hosts, machine_interfaces
from fanoutsim.errors import ConfigError, FanoutsimError
from fanoutsim.serve import busy_ports

__all__ = [
    "LAB_PACKAGES",
    "RUN_PACKAGES",
    "Check",
    "add_parser",
    "check_address",
    "check_packages",
    "check_ports",
    "check_python",
    "check_simulator",
    "check_websocket",
    "render",
    "run",
]

#: Distribution names ``fanoutsim demo`` and ``serve`` import.
RUN_PACKAGES = (
    "boto3",
    "moto",
    "flask",
    "flask-cors",
    "websockets",
    "numpy",
    "matplotlib",
    "tqdm",
    "segno",
)
#: What the notebooks need beside them (``make lab``).
LAB_PACKAGES = ("jupyterlab", "ipywidgets", "ipykernel")


@dataclass(frozen=True)
class Check:
    """One check: its name, whether it passed, what was found, and the fix if it failed."""

    name: str
    ok: bool
    found: str
    fix: str = ""


def check_python(version: tuple[int, int] = sys.version_info[:2]) -> Check:
    found = f"Python {version[0]}.{version[1]}"
    if version >= (3, 11):
        return Check("python", True, found)
    return Check("python", False, found, "install Python 3.11 or newer, then make clean demo")


def check_packages(names: Iterable[str], purpose: str, fix: str) -> Check:
    """Whether each distribution is installed (its version if so)."""
    found, missing = [], []
    for name in names:
        try:
            found.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            missing.append(name)
    if missing:
        return Check(f"packages for {purpose}", False, f"missing: {', '.join(missing)}", fix)
    return Check(f"packages for {purpose}", True, ", ".join(found))


def check_ports(port: int, host: str = "127.0.0.1") -> Check:
    """Whether ``serve --port P`` could take P, P+1 and P+2."""
    ports = [port, port + 1, port + 2]
    busy = busy_ports(host, ports)
    name = f"ports {port}-{port + 2} for serve --port {port}"
    if busy:
        taken = ", ".join(map(str, busy))
        return Check(
            name,
            False,
            f"in use: {taken}",
            f"stop what holds {taken}, or run serve with another --port (or none: free ports)",
        )
    return Check(name, True, "free")


async def _round_trip() -> float:
    from websockets.asyncio.client import connect
    from websockets.asyncio.server import ServerConnection, serve

    async def echo(ws: ServerConnection) -> None:
        async for message in ws:
            await ws.send(message)

    async with serve(echo, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        async with connect(f"ws://127.0.0.1:{port}", open_timeout=5) as ws:
            started = time.perf_counter()
            await ws.send("ping")
            async with asyncio.timeout(5):
                await ws.recv()
            return (time.perf_counter() - started) * 1000


def check_websocket() -> Check:
    """A WebSocket server and client on loopback exchange one message."""
    try:
        ms = asyncio.run(_round_trip())
    except (OSError, TimeoutError) as error:
        return Check(
            "websocket on loopback",
            False,
            f"{type(error).__name__}: {error}",
            "allow Python to listen on 127.0.0.1 (a firewall or a security tool blocks it)",
        )
    return Check("websocket on loopback", True, f"round trip {ms:.1f} ms")


def check_address() -> Check:
    """An address the room's phones could reach (read from the interfaces, not dialled)."""
    try:
        hosts = advertised_hosts("0.0.0.0", machine_interfaces())
    except ConfigError:
        return Check(
            "address for the room's phones",
            False,
            "no address other devices can reach",
            "join the venue's network (only needed for the room), or pass --public-host NAME",
        )
    return Check("address for the room's phones", True, ", ".join(hosts))


def check_simulator() -> Check:
    """A simulator on moto delivers one update to one client."""
    from fanoutsim.simulator import Simulator

    started = time.perf_counter()
    try:
        with Simulator() as sim:
            sim.clients.add(1)
            sim.flights.load()
            sim.flights.publish("FS101", "BOARDING", "Boarding group 1")
            sim.wait(timeout=30)
            delivered = sim.delivery_counts()["delivered"]
    except (FanoutsimError, OSError) as error:
        return Check("simulator", False, str(error), "run make demo and read its error")
    took = time.perf_counter() - started
    return Check("simulator", True, f"{delivered} deliveries in {took:.1f} s (moto in-process)")


def render(checks: Iterable[Check]) -> str:
    """One line per check; each problem's fix on the line under it."""
    lines = []
    for check in checks:
        lines.append(f"{'ok' if check.ok else 'PROBLEM':>7}  {check.name}: {check.found}")
        if not check.ok:
            lines.append(f"{'':>7}  fix: {check.fix}")
    return "\n".join(lines)


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    doctor = sub.add_parser(
        "doctor",
        help="check this machine for the workshop, with a fix for each problem",
        description="Check the Python version, the packages, the ports serve would take, a "
        "WebSocket round trip on loopback, an address the room's phones could reach and a "
        "simulator delivering one update; print one line per check and each problem's fix.",
    )
    doctor.add_argument(
        "--port", type=arguments.port, default=9000, help="the serve port to check (9000)"
    )


def run(args: argparse.Namespace, out: Callable[[str], None] = print) -> int:
    """Run every check, printing each as it finishes; 1 if any failed."""
    checks: list[Callable[[], Check]] = [
        check_python,
        lambda: check_packages(RUN_PACKAGES, "running", "pip install -e . (or make demo)"),
        lambda: check_packages(
            LAB_PACKAGES, "the notebooks", "pip install -e '.[lab]' (or make lab)"
        ),
        lambda: check_ports(args.port),
        check_websocket,
        check_address,
        check_simulator,
    ]
    failed = 0
    for make in checks:
        check = make()
        failed += not check.ok
        out(render([check]))
    out(f"\n{len(checks) - failed} of {len(checks)} checks passed")
    return 1 if failed else 0
