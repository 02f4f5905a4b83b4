"""What a running pipeline offers, local or deployed: the one type the notebook panels and
scripts are written against. :class:`~fanoutsim.simulator.Simulator` and
:class:`~fanoutsim.deploy.remote.DeployedStack` both satisfy it (checked by mypy in
``tests/test_pipeline.py``, which also drives the same script through each).

The verbs mean the same in both homes: ``clients`` and ``flights`` are the same classes
(:class:`~fanoutsim.clients.ClientPool`, :class:`~fanoutsim.flights.Flights`), ``wait``
waits for the same condition, ``delivery_counts`` counts the same pairs. Reports differ:
the simulator's has every stage's stamps, the deployed one only what the clients measure.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, Protocol, runtime_checkable

from fanoutsim.clients import ClientPool
from fanoutsim.flights import Flights
from fanoutsim.tracing import Timeline

__all__ = ["Pipeline", "PipelineSettings", "Until"]

#: What :meth:`Pipeline.wait` waits for: every owed pair delivered, no work in flight, or
#: the pipeline settled (both, and nothing left to change).
Until = Literal["delivered", "idle", "settled"]


class _Named(Protocol):
    @property
    def name(self) -> str: ...


class PipelineSettings(Protocol):
    """The settings a panel shows: fan-out mode, posts in flight, region, timing profile."""

    @property
    def fanout(self) -> str: ...
    @property
    def post_concurrency(self) -> int: ...
    @property
    def region(self) -> str: ...
    @property
    def profile(self) -> _Named: ...


@runtime_checkable
class Pipeline(Protocol):
    """A running fan-out pipeline: clients, flights, one wait, read-only views."""

    @property
    def clients(self) -> ClientPool: ...
    @property
    def flights(self) -> Flights: ...
    @property
    def options(self) -> PipelineSettings: ...
    @property
    def closed(self) -> bool: ...

    def wait(self, until: Until = "delivered", timeout: float = 30.0) -> None: ...
    def delivery_counts(self) -> dict[str, int]: ...
    def timeline(self, trace_id: str) -> Timeline: ...
    def report(self) -> Any: ...
    def on_change(self, callback: Callable[[str], None]) -> None: ...
    def off_change(self, callback: Callable[[str], None]) -> None: ...
    def close(self) -> None: ...
