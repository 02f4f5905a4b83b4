"""The runtime's servers are tested on both event loops they may run on."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest


@pytest.fixture(params=["asyncio", "uvloop"])
def any_loop(request: pytest.FixtureRequest) -> Iterator[str]:
    """``asyncio.run`` in the test makes a loop of this kind (uvloop: the default where it
    is installed; the standard library's: Windows, or ``FANOUTSIM_LOOP=asyncio``)."""
    if request.param == "uvloop":
        uvloop = pytest.importorskip("uvloop")
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    try:
        yield request.param
    finally:
        asyncio.set_event_loop_policy(None)
