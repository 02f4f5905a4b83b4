"""Which address is given to other devices, and which Host names are answered: a pure
function of injected interfaces, so every case runs anywhere."""

from __future__ import annotations

import pytest

from fanoutsim.addresses import (
    Interfaces,
    advertised_hosts,
    allowed_hosts,
    as_seen_from,
    host_allowed,
    is_exposed,
    local_host,
)
from fanoutsim.errors import ConfigError

LAPTOP = Interfaces(("127.0.0.1", "10.1.2.3", "192.168.1.20", "fe80::1", "fd00::2"), "192.168.1.20")


@pytest.mark.parametrize("bind", ["0.0.0.0", "::"])
def test_an_unspecified_bind_is_never_advertised(bind: str) -> None:
    hosts = advertised_hosts(bind, LAPTOP)
    assert hosts and not {"0.0.0.0", "::"} & set(hosts)
    assert not any(h.startswith(("127.", "fe80")) or h == "::1" for h in hosts)


def test_the_default_routes_address_comes_first_then_every_other_of_its_family() -> None:
    assert advertised_hosts("0.0.0.0", LAPTOP) == ("192.168.1.20", "10.1.2.3")
    assert advertised_hosts("::", LAPTOP) == ("fd00::2",)


def test_without_a_default_route_every_non_loopback_address_is_listed() -> None:
    offline = Interfaces(("127.0.0.1", "10.1.2.3", "172.16.0.9"), None)
    assert advertised_hosts("0.0.0.0", offline) == ("10.1.2.3", "172.16.0.9")


def test_no_reachable_address_is_a_sentence_naming_the_fix() -> None:
    with pytest.raises(ConfigError, match="public_host"):
        advertised_hosts("0.0.0.0", Interfaces(("127.0.0.1",), None))


def test_a_public_host_wins_and_a_specific_bind_is_itself() -> None:
    assert advertised_hosts("0.0.0.0", LAPTOP, "laptop.local") == ("laptop.local",)
    assert advertised_hosts("127.0.0.2", LAPTOP) == ("127.0.0.2",)
    with pytest.raises(ConfigError):
        advertised_hosts("0.0.0.0", LAPTOP, "0.0.0.0")


def test_exposure_and_the_local_address() -> None:
    assert not is_exposed("127.0.0.1") and not is_exposed("127.0.0.2")
    assert not is_exposed("::1") and not is_exposed("localhost")
    assert is_exposed("0.0.0.0") and is_exposed("192.168.1.20") and is_exposed("laptop.local")
    assert local_host("0.0.0.0") == "127.0.0.1" and local_host("::") == "::1"
    assert local_host("127.0.0.2") == "127.0.0.2"


def test_only_the_advertised_and_loopback_names_are_answered() -> None:
    allowed = allowed_hosts("0.0.0.0", ("192.168.1.20",))
    for header in ("192.168.1.20:8001", "LOCALHOST:8001", "127.0.0.1", "[::1]:8001"):
        assert host_allowed(header, allowed), header
    for header in ("evil.example:8001", "192.168.1.21:8001", "", None, "[fe80::1]:1"):
        assert not host_allowed(header, allowed), header


def test_endpoints_are_rewritten_to_the_host_the_request_came_in_on() -> None:
    endpoints = {
        "websocket": "ws://127.0.0.1:9000/prod",
        "rest": "http://127.0.0.1:9001/prod",
        "region": "us-east-1",
    }
    seen = as_seen_from(endpoints, "192.168.1.20:9001")
    assert seen == {
        "websocket": "ws://192.168.1.20:9000/prod",
        "rest": "http://192.168.1.20:9001/prod",
        "region": "us-east-1",
    }
    assert as_seen_from(endpoints, "[fd00::2]:9001")["websocket"] == "ws://[fd00::2]:9000/prod"
    assert as_seen_from(endpoints, None) == endpoints
