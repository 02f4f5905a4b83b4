"""Which address to give people, and which ``Host`` names a listener accepts.

A server bound to ``0.0.0.0`` or ``::`` listens everywhere, but those addresses mean "this
device" on whatever device reads them: a phone told ``ws://0.0.0.0:P`` dials itself. So
what is advertised is never the bind address when it is unspecified: it is the address
of the interface with the default route, or every non-loopback address of the machine,
or the name the instructor gives (``public_host``). The choice is a pure function of the
interfaces (:func:`advertised_hosts`), so tests inject them; :func:`machine_interfaces`
reads them from this machine.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit, urlunsplit

from fanoutsim.errors import ConfigError

__all__ = [
    "MISDIRECTED_TEXT",
    "Interfaces",
    "Reach",
    "advertised_hosts",
    "allowed_hosts",
    "as_seen_from",
    "host_allowed",
    "host_name",
    "is_exposed",
    "local_host",
    "machine_interfaces",
    "reach",
    "url_host",
]

#: The body of every listener's 421 (RFC 9110 section 15.5.20) to a request naming a host
#: the stack did not advertise.
MISDIRECTED_TEXT: Final = (
    "Misdirected Request: this server answers only to the addresses fanoutsim printed\n"
)

#: An address in TEST-NET-1 (RFC 5737), never routed: connecting a UDP socket to it sends
#: nothing, and only asks the kernel which source address its default route would use.
_ROUTE_PROBE = "192.0.2.1"


@dataclass(frozen=True)
class Interfaces:
    """What a machine offers: its addresses, and the one its default route leaves from
    (None without a default route, e.g. on a closed network)."""

    addresses: tuple[str, ...] = ()
    default_route: str | None = None


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def is_exposed(host: str) -> bool:
    """Whether binding ``host`` lets other machines connect (anything but loopback)."""
    ip = _ip(host)
    if ip is None:
        return host.lower() != "localhost"
    return not ip.is_loopback


def local_host(bind: str) -> str:
    """The address this machine's own clients use to reach a server bound to ``bind``."""
    ip = _ip(bind)
    if ip is not None and ip.is_unspecified:
        return "::1" if ip.version == 6 else "127.0.0.1"
    return bind


def advertised_hosts(
    bind: str, interfaces: Interfaces, public_host: str | None = None
) -> tuple[str, ...]:
    """The addresses to give other devices, best first; never ``0.0.0.0`` nor ``::``.

    ``public_host`` wins (a DNS name or an address the instructor knows works); a specific
    bind address is itself; an unspecified one becomes the default route's address, or
    else every non-loopback address of its family. Raises :class:`ConfigError` when no
    device could use any of them."""
    if public_host:
        if (ip := _ip(public_host)) is not None and ip.is_unspecified:
            raise ConfigError(f"public host {public_host} is not an address a device can dial")
        return (public_host,)
    ip = _ip(bind)
    if ip is None or not ip.is_unspecified:
        return (bind,)
    family = ip.version
    usable = [
        a
        for a in interfaces.addresses
        if (addr := _ip(a)) is not None
        and addr.version == family
        and not (addr.is_loopback or addr.is_unspecified or addr.is_link_local)
    ]
    default = interfaces.default_route
    if default is not None and (d := _ip(default)) is not None and d.version == family:
        usable = [default, *(a for a in usable if a != default)]
    if not usable:
        raise ConfigError(
            f"bound to {bind}, but this machine has no address another device can reach; "
            "join the network first, or pass public_host= (--public-host NAME)"
        )
    return tuple(dict.fromkeys(usable))


def url_host(host: str) -> str:
    """``host`` as it stands in a URL (IPv6 addresses in brackets)."""
    ip = _ip(host)
    return f"[{ip}]" if ip is not None and ip.version == 6 else host


def allowed_hosts(bind: str, advertised: Iterable[str]) -> frozenset[str]:
    """The host names (no port) a listener answers to: what was advertised, the bind
    address itself and loopback's names, lower-case; anything else is a request meant for
    another site (a DNS-rebinding page, a proxy's mistake)."""
    names = {"localhost", "127.0.0.1", "::1", bind, local_host(bind), *advertised}
    return frozenset(n.strip("[]").lower() for n in names)


def host_name(header: str | None) -> str:
    """The name in a ``Host`` header (``name``, ``name:port``, ``[v6]:port``), lower-case."""
    value = (header or "").strip().lower()
    if value.startswith("["):
        return value[1:].partition("]")[0]
    return value.rpartition(":")[0] if value.count(":") == 1 else value


def host_allowed(header: str | None, allowed: frozenset[str]) -> bool:
    """Whether a request's ``Host`` header names one of ``allowed``."""
    return bool(header) and host_name(header) in allowed


def as_seen_from(endpoints: Mapping[str, str], host_header: str | None) -> dict[str, str]:
    """The endpoints with their host replaced by the one the request came in on: a phone
    that loaded the page from ``192.168.1.20`` must dial ``192.168.1.20`` too, whatever
    address the server was bound to (ports and paths stay)."""
    name = host_name(host_header)
    if not name:
        return dict(endpoints)
    seen = {}
    for key, url in endpoints.items():
        parts = urlsplit(url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.port is not None:
            url = urlunsplit(parts._replace(netloc=f"{url_host(name)}:{parts.port}"))
        seen[key] = url
    return seen


def machine_interfaces() -> Interfaces:
    """This machine's addresses and its default route's source address (sends nothing)."""
    found: list[str] = []
    with contextlib.suppress(OSError):
        for *_, sockaddr in socket.getaddrinfo(socket.gethostname(), None):
            found.append(str(sockaddr[0]))
    default: str | None = None
    with (
        contextlib.suppress(OSError),
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe,
    ):
        probe.connect((_ROUTE_PROBE, 9))  # UDP: picks a route, sends no packet
        default = str(probe.getsockname()[0])
    return Interfaces(tuple(dict.fromkeys(_sorted(found))), default)


def _sorted(addresses: Sequence[str]) -> list[str]:
    return sorted(addresses, key=lambda a: (":" in a, a))


@dataclass(frozen=True)
class Reach:
    """Where a stack's own clients connect (``internal``), what people are given
    (``advertised``, best first) and the ``Host`` names answered (None: any)."""

    internal: str
    advertised: tuple[str, ...]
    allowed: frozenset[str] | None

    @property
    def public(self) -> str:
        """The advertised host as it stands in a URL."""
        return url_host(self.advertised[0])


def reach(
    bind: str,
    guarded: bool,
    public_host: str | None = None,
    interfaces: Callable[[], Interfaces] = machine_interfaces,
) -> Reach:
    """The :class:`Reach` of a stack bound to ``bind``; ``guarded`` when other devices are
    meant to reach it (then ``Host`` is checked)."""
    internal = local_host(bind)
    if not guarded:
        return Reach(internal, (internal,), None)
    advertised = advertised_hosts(bind, interfaces(), public_host)
    return Reach(internal, advertised, allowed_hosts(bind, advertised))
