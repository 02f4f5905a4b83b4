from __future__ import annotations

import asyncio

import pytest

from fanoutsim.errors import ConfigError
from fanoutsim.runtime.loop_thread import LOOP_ENV, LoopThread, loop_kind


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
