"""The simulator facade: the whole Pattern #3 stack on moto, with real WebSockets, behind a
small synchronous API for notebooks, widgets, the CLI and tests.

    with Simulator() as sim:
        sim.clients.add(5)
        sim.flights.load()
        sim.flights.publish("FS101", "BOARDING", "Boarding group 1")
        sim.wait()
        print(sim.report())

The surface is grouped by noun, as ``websockets``' connection and SimPy's environment keep
theirs small: ``sim.clients`` (:class:`~fanoutsim.clients.Clients`), ``sim.flights``
(:class:`~fanoutsim.flights.Flights`) and ``sim.stream``, one :meth:`Simulator.wait`, the
settings as one record (``sim.options``), and read-only views (``report``, ``timeline``,
``invocations``, ``connections``, ``room``).

:mod:`fanoutsim.builder` builds the stack; this class only offers verbs over it. moto runs
in-process; the gateway, stream poller and subscribers run on an asyncio loop in a
background thread; handlers run on the function runtime's worker threads. One simulator at
a time per process (the handlers read their configuration from the process environment, as
on Lambda). On a closed simulator every verb that acts or reads AWS raises
:class:`SimulatorError`; the run's records (report, timelines, invocations, stream records)
stay readable.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from fanoutsim import one_at_a_time, provision, snapshot, stack
from fanoutsim.aws.lambda_functions import Handler
from fanoutsim.builder import Components, build
from fanoutsim.clients import Clients
from fanoutsim.deploy.remote import DeployedStack
from fanoutsim.errors import DeliveryTimeout, SimulatorError
from fanoutsim.faults import FaultPlan
from fanoutsim.feed import Changed, PipelineEvent
from fanoutsim.flights import LocalFlights
from fanoutsim.functions import tokens
from fanoutsim.open_guard import open_only
from fanoutsim.options import Options, Transport
from fanoutsim.pipeline import Until
from fanoutsim.report import Report, build_report
from fanoutsim.room import RoomSnapshot
from fanoutsim.runtime.function_runtime import Invocation
from fanoutsim.tracing import Timeline

__all__ = ["Simulator", "StreamView", "Transport", "Until"]


@dataclass(frozen=True)
class StreamView:
    """``sim.stream``: the flights table's stream as the event source mapping reads it."""

    _c: Components

    def records(self) -> list[dict[str, Any]]:
        """The stream records the poller has read (the newest
        :data:`~fanoutsim.runtime.poller.RECORDS_KEPT`), in Lambda's event shape."""
        return list(self._c.poller.records_seen)

    def counters(self) -> dict[str, int]:
        """The event source mapping's counters: invocations, retries, bisections, ..."""
        return self._c.mapping.counters()

    def failures(self) -> list[dict[str, Any]]:
        """The on-failure record of each batch the mapping discarded (the newest
        :data:`~fanoutsim.runtime.poller.RECORDS_KEPT`): what its on-failure destination,
        if one is set, received."""
        return list(self._c.poller.failure_records)

    @property
    def source(self) -> str:
        """``dynamodb`` (the table's own stream) or ``kinesis`` (the seed's feed)."""
        return self._c.options.stream

    @property
    def poll_interval_s(self) -> float:
        """How often the mapping reads the stream (0: when a record is written, under the
        ``instant`` profile)."""
        return self._c.poller.poll_interval_s


class Simulator:
    """Builds, runs and observes the stack. Use as a context manager or call :meth:`close`."""

    def __init__(self, **settings: Any) -> None:
        """Every setting is a field of :class:`~fanoutsim.options.Options`, by name:
        ``Simulator(fanout="per-flight", profile="aws")``. The ones most used: ``profile``,
        ``fanout``, ``routes``, ``room``, ``authorizer``, ``quotas``, ``faults``,
        ``seed_bugs``, ``aws_endpoint``. An unknown name is refused with the known ones."""
        self._closed = True  # until the stack is up
        self._watchers: dict[Callable[[str], None], Callable[[PipelineEvent], None]] = {}
        one_at_a_time.claim(self)
        try:
            self.options: Options = Options.of(**settings)
            self._c: Components = build(self.options)
        except BaseException:
            self._release()
            raise
        self._closed = False
        self.endpoints = dict(self._c.endpoints)
        self.clients = Clients(self._c, lambda: self._closed)
        self.flights = LocalFlights(self._c, lambda: self._closed, lambda: self.wait("settled"))
        self.stream = StreamView(self._c)
        # The stack's long-lived objects (moto's models, botocore's service data) leave the
        # collector's view: otherwise a full collection stalls an update for ~70 ms.
        gc.collect()
        gc.freeze()

    @staticmethod
    def attach(outputs: Mapping[str, str] | str, **options: Any) -> DeployedStack:
        """The deployed stack with this class's verbs (:class:`DeployedStack`): ``outputs``
        as :func:`fanoutsim.deploy.cloudformation.deploy` returned them, or the name of a
        stack deployed from this machine (``region=`` too, unless it is the default)."""
        if isinstance(outputs, str):
            return DeployedStack.from_stack(outputs, **options)
        return DeployedStack(outputs, **options)

    @property
    def closed(self) -> bool:
        return self._closed

    # ----------------------------------------------------------------- change feed
    @open_only
    def on_change(self, callback: Callable[[str], None]) -> None:
        """Call ``callback(kind)`` whenever something happens: ``"message"`` (a client
        received one), ``"connections"`` (a client came or went), ``"invocation"`` (a
        function finished). It runs on a simulator thread: keep it short, never block."""

        def forward(event: PipelineEvent) -> None:
            if isinstance(event, Changed):
                callback(event.kind)

        self._watchers[callback] = forward
        self._c.feed.subscribe(forward)

    def off_change(self, callback: Callable[[str], None]) -> None:
        """Stop calling ``callback`` (e.g. when a widget is replaced)."""
        forward = self._watchers.pop(callback, None)
        if forward is not None:
            self._c.feed.unsubscribe(forward)

    @property
    def watcher_errors(self) -> list[str]:
        """Errors raised by change callbacks (they never break the pipeline)."""
        return list(self._c.feed.errors)

    # ----------------------------------------------------------------- waiting
    @open_only
    def wait(self, until: Until = "delivered", timeout: float = 30.0) -> None:
        """Block until ``"delivered"``: every connected client has every update published
        while it was there (updates that failed visibly are not waited for: see the
        report's dropped updates); ``"idle"``: no event is in flight, the stream is
        drained, no batch runs and every closed connection's ``$disconnect`` has run;
        ``"settled"``: both, in that order (the logs are then complete)."""
        if until not in ("delivered", "idle", "settled"):
            raise SimulatorError(f"wait until 'delivered', 'idle' or 'settled', not {until!r}")
        if until in ("delivered", "settled") and not self._c.deliveries.wait(timeout):
            missing = self._c.deliveries.outstanding()
            count = sum(len(v) for v in missing.values())
            raise DeliveryTimeout(
                f"{count} deliveries of {len(missing)} updates missing after {timeout:.0f} s"
            )
        if until in ("idle", "settled"):
            try:
                self._c.loop.run(asyncio.wait_for(self._c.idle(), timeout), timeout=None)
            except TimeoutError:
                raise SimulatorError(f"the pipeline was still busy after {timeout:.0f} s") from None

    # ----------------------------------------------------------------- observing
    def delivery_counts(self) -> dict[str, int]:
        """Owed (update, client) pairs by outcome so far (cheap: what a live counter shows)."""
        return self._c.deliveries.pairs()

    def timeline(self, trace_id: str) -> Timeline:
        """The stamps of one update (see :mod:`fanoutsim.tracing`)."""
        return self._c.tracer.timeline(trace_id)

    @open_only
    def connections(self) -> list[dict[str, Any]]:
        """The connections table's items."""
        return provision.scan_all(self._c.dynamodb, stack.CONNECTIONS_TABLE)

    def invocations(self) -> list[Invocation]:
        """Recent function invocations (newest last)."""
        return list(self._c.runtime.log)

    def report(self) -> Report:
        """Deliveries, per-stage latency and metered usage so far (and the room's devices,
        with a room)."""
        return build_report(snapshot.take(self._c))

    def room(self) -> RoomSnapshot:
        """The room's devices: name, when connected, updates received and missed, and
        latency p50/p99 from PutEvents to each device's acknowledgement; the last update's
        arrival on every device. Raises :class:`SimulatorError` without a room."""
        book = self._c.room
        if book is None:
            raise SimulatorError("this simulator has no room; open one with Simulator(room=True)")
        return book.snapshot(time.perf_counter())

    # ----------------------------------------------------------------- changing
    @open_only
    def replace_function(self, name: str, handler: Handler) -> None:
        """Deploy ``handler`` as a new version of function ``name`` (cold starts follow)."""
        self._c.runtime.replace(name, handler)

    @property
    def faults(self) -> FaultPlan:
        """The fault plan in force; assign a new one to break what it says from now on
        (``FaultPlan()`` for nothing). The report counts what was injected beside each
        pair's outcome."""
        return self._c.injector.plan

    @faults.setter
    def faults(self, plan: FaultPlan) -> None:
        if self._closed:
            raise SimulatorError("the simulator is closed: faults need an open one")
        self._c.use_faults(plan)

    @open_only
    def mint_token(self, user: str, ttl_s: int = 3600) -> str:
        """A ``$connect`` token for ``user``, valid ``ttl_s`` seconds, signed with this
        simulator's secret (pass it as ``?token=`` or ``Authorization: Bearer``)."""
        return tokens.mint(user, self.options.auth_secret, ttl_s=ttl_s)

    # ----------------------------------------------------------------- closing
    def close(self) -> None:
        """Disconnect clients, stop the servers and moto; restore the environment."""
        if self._closed:
            return
        self._closed = True
        try:
            self._c.close()
        finally:
            gc.unfreeze()
            self._release()

    def _release(self) -> None:
        one_at_a_time.release(self)

    def __enter__(self) -> Simulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        if not getattr(self, "_closed", True):
            self.close()
