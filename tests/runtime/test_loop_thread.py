from __future__ import annotations

import asyncio

import pytest

from fanoutsim.errors import ConfigError
from fanoutsim.runtime.loop_thread import LOOP_ENV, LoopThread, loop_kind, peer_ip


def _kind_of_running_loop(thread: LoopThread) -> str:
    async def probe() -> str:
        return type(asyncio.get_running_loop()).__module__.split(".")[0]

    try:
        return thread.run(probe(), timeout=5)
    finally:
        thread.stop()


def test_the_loop_is_uvloops_where_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("uvloop")
    monkeypatch.delenv(LOOP_ENV, raising=False)
    assert loop_kind() == "uvloop"
    assert _kind_of_running_loop(LoopThread("test-uvloop")) == "uvloop"


def test_the_standard_loop_can_be_asked_for(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(LOOP_ENV, "asyncio")
    assert loop_kind() == "asyncio"
    assert _kind_of_running_loop(LoopThread("test-asyncio")) == "asyncio"


def test_an_unknown_loop_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(LOOP_ENV, "trio")
    with pytest.raises(ConfigError, match="FANOUTSIM_LOOP must be 'uvloop' or 'asyncio'"):
        loop_kind()


@pytest.mark.usefixtures("any_loop")
def test_a_peer_is_read_while_open_and_a_closed_transport_does_not_raise() -> None:
    """The address a connection came from while it is open; a transport closed before
    anyone asked answers without raising (uvloop's own ``get_extra_info`` raises there,
    which once failed a ``$connect`` whose client had already left)."""

    async def scenario() -> tuple[str, str]:
        seen: list[asyncio.BaseTransport] = []

        class Keep(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                seen.append(transport)

        server = await asyncio.get_running_loop().create_server(Keep, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        writers = [(await asyncio.open_connection("127.0.0.1", port))[1] for _ in range(2)]
        while len(seen) < 2:
            await asyncio.sleep(0.01)
        open_peer = peer_ip(seen[0])
        seen[1].close()
        await asyncio.sleep(0.05)
        for writer in writers:
            writer.close()
        server.close()
        return open_peer, peer_ip(seen[1])

    open_peer, closed_peer = asyncio.run(scenario())
    assert open_peer == "127.0.0.1"
    assert closed_peer in ("127.0.0.1", "")
