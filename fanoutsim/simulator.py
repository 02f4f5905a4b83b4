"""The simulator facade: the whole Pattern #3 stack on moto, with real WebSockets, behind a
small synchronous API for notebooks, widgets, the CLI and tests.

    with Simulator() as sim:
        sim.add_clients(5)
        sim.load_flights()
        sim.publish("FS101", "BOARDING", "Boarding group 1")
        sim.wait_for_deliveries()
        print(sim.report())

moto runs in-process; the gateway, stream poller and clients run on an asyncio loop in a
background thread; handlers run on the function runtime's worker threads. One simulator at a
time per process (the handlers read their configuration from the process environment, as
on Lambda).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import threading
import time
import uuid
from collections.abc import Callable, Coroutine
from typing import Any, Literal, TypeVar

import boto3

from fanoutsim import stack
from fanoutsim.aws.esm import MappingConfig, StreamMapping
from fanoutsim.aws.metering import Meter
from fanoutsim.deliveries import Deliveries
from fanoutsim.errors import DeliveryTimeout, SimulatorError
from fanoutsim.functions import clients as function_clients
from fanoutsim.functions import flight_model
from fanoutsim.model.profiles import TimingProfile, load_profile
from fanoutsim.moto_account import MotoAccount
from fanoutsim.observer import UpdateObserver
from fanoutsim.report import Report, build_report
from fanoutsim.runtime.clients import ClientPool, SimClient
from fanoutsim.runtime.delays import Delays
from fanoutsim.runtime.event_bus import EventBusDispatcher
from fanoutsim.runtime.function_runtime import FunctionRuntime, Invocation
from fanoutsim.runtime.gateway import Gateway
from fanoutsim.runtime.instrumentation import Instrumentation, producer_call
from fanoutsim.runtime.poller import StreamPoller
from fanoutsim.sample_flights import sample_flights
from fanoutsim.tracing import Timeline, Tracer

T = TypeVar("T")
Transport = Literal["http", "in-process"]
_active_lock = threading.Lock()
_active: list[Simulator] = []


async def _finish(task: asyncio.Task[None]) -> None:
    """Let a stopping task end on its own, or cancel it after a moment."""
    with contextlib.suppress(TimeoutError, asyncio.CancelledError):
        await asyncio.wait_for(task, 2.0)


class Simulator:
    """Builds, runs and observes the stack. Use as a context manager or call :meth:`close`."""

    def __init__(
        self,
        *,
        profile: str | TimingProfile = "instant",
        transport: Transport = "http",
        mapping: MappingConfig | None = None,
        seed: int | None = 0,
        region: str = stack.REGION,
        connect_token: str | None = None,
    ) -> None:
        if transport not in ("http", "in-process"):
            raise SimulatorError(f"transport must be 'http' or 'in-process', not {transport!r}")
        self.profile = profile if isinstance(profile, TimingProfile) else load_profile(profile)
        with _active_lock:
            if _active:
                raise SimulatorError("another Simulator is open in this process; close it first")
            _active.append(self)
        self.transport = transport
        self._connect_token = connect_token
        self.region = region
        self.meter = Meter()
        self.tracer = Tracer()
        self.deliveries = Deliveries()
        self.observer = UpdateObserver(self.tracer, self.deliveries)
        self.published: list[str] = []
        self._closed = False
        self._tasks: set[asyncio.Future[Any]] = set()
        self._watchers: list[Callable[[str], None]] = []
        self.watcher_errors: list[str] = []
        try:
            self._start(mapping or stack.DEFAULT_MAPPING, seed)
        except BaseException:
            self.close()
            raise

    # ----------------------------------------------------------------- building
    def _start(self, mapping: MappingConfig, seed: int | None) -> None:
        token = {"CONNECT_TOKEN": self._connect_token} if self._connect_token else {}
        self.account = MotoAccount(self.region, token)
        self.delays = Delays(self.profile, seed)
        self.instrumentation = Instrumentation(self.meter, self.account.table, self.delays)
        self.instrumentation.install()  # before any client exists: clients copy the hooks
        function_clients.reset()
        self.dynamodb = boto3.client("dynamodb", region_name=self.region)
        self.events = boto3.client("events", region_name=self.region)
        self.streams = boto3.client("dynamodbstreams", region_name=self.region)
        stream_arn = stack.create_tables(self.dynamodb)
        stack.create_bus(self.events, self.region)
        self.instrumentation.on_table_write.append(self._on_table_write)
        self.observer.watch_commits(self.account.table(stack.FLIGHTS_TABLE).stream_shard)
        self.runtime = FunctionRuntime(
            stack.FUNCTIONS, self.meter, self.delays, region=self.region, account=stack.ACCOUNT
        )
        self.runtime.start_listeners.append(self.observer.invocation_started)
        self.runtime.listeners.append(self.observer.invocation_ended)

        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="fanoutsim", daemon=True)
        self._thread.start()
        self.gateway = Gateway(
            self.runtime,
            self.meter,
            self.tracer,
            routes=stack.ROUTES,
            rest_routes=stack.REST_ROUTES,
            delays=self.delays,
        )
        self._run(self.gateway.start())
        self.endpoints = self.gateway.endpoints
        os.environ["WEBSOCKET_ENDPOINT"] = self.endpoints["management"]
        if self.transport == "in-process":
            self.instrumentation.in_process[self.endpoints["management"]] = self.gateway

        self.bus = EventBusDispatcher(
            self.account.events_backend(), self.runtime, self.delays, self.loop, self._spawn
        )
        self.bus.meter = self.meter
        self.bus.on_gave_up.append(self.observer.update_rejected)
        self.bus.route(stack.BUS, stack.RULE, "flight_events")

        self.mapping = StreamMapping(mapping)
        self.poller = StreamPoller(
            self.streams,
            stream_arn,
            self.mapping,
            self.runtime,
            "stream_fanout",
            self.tracer,
            self.delays,
            region=self.region,
            poll_interval_s=self.profile.stream_poll_interval_ms / 1000,
        )
        retries = mapping.maximum_retry_attempts
        self.poller.on_discard.append(lambda r: self.observer.records_discarded(r, retries))
        self.poller.on_filtered.append(self.observer.records_filtered)
        self._poller_task = self._run(self._start_poller())
        self.clients = ClientPool(self.endpoints["websocket"], self.tracer)
        self.clients.on_receipt.append(self.deliveries.received)
        self.clients.on_message.append(lambda client: self._notify("message"))
        self.gateway.on_change.append(lambda: self._notify("connections"))
        self.runtime.listeners.append(lambda invocation: self._notify("invocation"))
        # The stack's long-lived objects (moto's models, botocore's service data) leave the
        # collector's view: otherwise a full collection stalls an update for ~70 ms.
        gc.collect()
        gc.freeze()

    async def _start_poller(self) -> asyncio.Task[None]:
        return asyncio.ensure_future(self.poller.run())

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _run(self, coro: Coroutine[Any, Any, T], timeout: float = 60.0) -> T:
        """Run ``coro`` on the simulator's loop and wait for its result."""
        if self._closed:
            raise SimulatorError("the simulator is closed")
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    # ----------------------------------------------------------------- change feed
    def on_change(self, callback: Callable[[str], None]) -> None:
        """Call ``callback(kind)`` whenever something happens: ``"message"`` (a client
        received one), ``"connections"`` (a client came or went), ``"invocation"`` (a
        function finished). It runs on a simulator thread: keep it short, never block."""
        self._watchers.append(callback)

    def off_change(self, callback: Callable[[str], None]) -> None:
        """Stop calling ``callback`` (e.g. when a widget is replaced)."""
        if callback in self._watchers:
            self._watchers.remove(callback)

    @property
    def closed(self) -> bool:
        return self._closed

    def _notify(self, kind: str) -> None:
        for callback in list(self._watchers):
            try:
                callback(kind)
            except Exception as error:  # a broken view must not break the pipeline
                self.watcher_errors.append(f"{type(error).__name__}: {error}")

    def _on_table_write(self, operation: str, invocation: Invocation | None) -> None:
        self.poller.wake()

    # ----------------------------------------------------------------- clients
    def add_clients(self, n: int = 1) -> list[SimClient]:
        """Connect ``n`` new subscribers (each through ``$connect`` and its table write)."""
        if n < 0:
            raise ValueError("n must be >= 0")
        return self._run(self.clients.add(n), timeout=60 + n * 0.1)

    def remove_clients(self, n: int = 1) -> list[str]:
        """Disconnect the ``n`` newest subscribers; their expected deliveries are dropped."""
        return self.clients_leave(list(self.clients.clients)[-n:] if n > 0 else [])

    def clients_leave(self, names: list[str]) -> list[str]:
        """Disconnect the named subscribers (a normal close: ``$disconnect`` runs)."""
        self.deliveries.forget_clients(names)
        self._run(self.clients.remove_named(names))
        self._run(self.gateway.disconnected(set(names)))
        return names

    def connect_client(self, query: str = "") -> SimClient:
        """Connect one subscriber with extra query parameters (raises ConnectRejected)."""
        return self._run(self.clients.connect(query=query))

    # ----------------------------------------------------------------- producing
    def put_events(self, entries: list[dict[str, Any]]) -> dict[str, Any]:
        """Send raw ``PutEvents`` entries as a producer would; returns AWS's response."""
        token = producer_call.set(True)
        try:
            response: dict[str, Any] = self.events.put_events(Entries=entries)
        finally:
            producer_call.reset(token)
        return response

    def _publish(self, detail_type: str, detail: dict[str, Any]) -> str:
        trace_id = uuid.uuid4().hex[:16]
        self.deliveries.expect(trace_id, list(self.clients.clients))
        self.published.append(trace_id)
        self.tracer.stamp(trace_id, "put_events")
        entry = stack.event_entry(detail_type, {**detail, flight_model.TRACE_FIELD: trace_id})
        response = self.put_events([entry])
        if response["FailedEntryCount"]:
            error = response["Entries"][0]
            self.observer.drop([trace_id], f"{error.get('ErrorCode')}: {error.get('ErrorMessage')}")
        return trace_id

    def publish(self, flight_id: str, status: str, details: str = "") -> str:
        """Publish a ``Flight status updated`` event; returns the update's trace id."""
        detail = {"flightId": flight_id, "event": status, "eventDetails": details}
        return self._publish(flight_model.STATUS_UPDATED, detail)

    def schedule_flight(self, flight: dict[str, Any]) -> str:
        """Publish a ``New flight scheduled`` event; returns the update's trace id."""
        return self._publish(flight_model.NEW_FLIGHT, flight)

    def load_flights(self, wait: bool = True) -> list[str]:
        """Schedule the sample flights (and wait until every client has them)."""
        traces = [self.schedule_flight(f.flight) for f in sample_flights()]
        if wait:
            self.wait_for_deliveries()
            self.wait_until_idle()  # the table holds them even with no client connected
        return traces

    # ----------------------------------------------------------------- observing
    def missing(self) -> dict[str, set[str]]:
        """Expected deliveries not yet received, per trace id."""
        return self.deliveries.outstanding()

    def wait_for_deliveries(self, timeout: float = 30.0) -> None:
        """Block until every connected client has every update published while it was there
        (updates that failed visibly are not waited for: see the report's dropped updates)."""
        if not self.deliveries.wait(timeout):
            missing = self.missing()
            count = sum(len(v) for v in missing.values())
            raise DeliveryTimeout(
                f"{count} deliveries of {len(missing)} updates missing after {timeout:.0f} s"
            )

    def settle(self, timeout: float = 30.0) -> None:
        """Wait for every delivery, then for the pipeline to go idle (logs complete)."""
        self.wait_for_deliveries(timeout)
        self.wait_until_idle(timeout)

    def boards(self) -> dict[str, dict[str, dict[str, Any]]]:
        """Each client's flight board: client name -> flightId -> latest payload."""
        return {name: dict(c.board) for name, c in self.clients.clients.items()}

    def timeline(self, trace_id: str) -> Timeline:
        """The stamps of one update (see :mod:`fanoutsim.tracing`)."""
        return self.tracer.timeline(trace_id)

    def latest_trace(self) -> str | None:
        """The trace id of the most recent publish, if any."""
        return self.published[-1] if self.published else None

    def _quiet(self) -> bool:
        return self.bus.pending == 0 and self.poller.idle.is_set() and self.mapping.idle

    def wait_until_idle(self, timeout: float = 30.0) -> None:
        """Block until no event is in flight, the stream is drained and no batch runs."""
        deadline = time.monotonic() + timeout
        while True:
            if self._quiet():
                self.poller.idle.clear()
                self.poller.wake()  # one more poll, to see writes made since the last one
                while not self.poller.idle.is_set() and time.monotonic() < deadline:
                    time.sleep(0.002)
                if self._quiet():
                    return
            if time.monotonic() > deadline:
                raise SimulatorError(f"the pipeline was still busy after {timeout:.0f} s")
            time.sleep(0.005)

    def connections(self) -> list[dict[str, Any]]:
        """The connections table's items."""
        return stack.scan_all(self.dynamodb, stack.CONNECTIONS_TABLE)

    def flights(self) -> list[dict[str, Any]]:
        """The flights table's items (the view model)."""
        return stack.scan_all(self.dynamodb, stack.FLIGHTS_TABLE)

    def stream_records(self) -> list[dict[str, Any]]:
        """Every stream record the poller has read, in Lambda's event shape."""
        return list(self.poller.records_seen)

    def invocations(self) -> list[Invocation]:
        """Recent function invocations (newest last)."""
        return list(self.runtime.log)

    def inject_post_failures(self, count: int, *, after: int = 0, status: int = 500) -> None:
        """After ``after`` good posts, fail the next ``count`` PostToConnection calls with
        ``status`` (to show partial batch failures, retries and duplicate deliveries).

        boto3 retries a 5xx by itself (five attempts in its default legacy mode), so it
        takes five failures in a row before the stream handler sees an error."""
        if count < 0 or after < 0:
            raise ValueError("count and after must be >= 0")
        self.gateway.faults.after = after
        self.gateway.faults.status = status
        self.gateway.faults.count = count

    def sever_client(self, name: str) -> None:
        """Cut a client off without ``$disconnect`` (a lost network): its row goes stale."""

        async def sever() -> None:
            self.gateway.sever(name)
            await self.clients.forget(name)

        self._run(sever())
        self.deliveries.forget_clients([name])

    def report(self) -> Report:
        """Deliveries, per-stage latency and metered usage so far."""
        return build_report(self)

    # ----------------------------------------------------------------- closing
    def close(self) -> None:
        """Disconnect clients, stop the servers and moto; restore the environment."""
        if self._closed:
            return
        try:
            if hasattr(self, "clients"):
                self._run(self.clients.close())
            if hasattr(self, "poller"):
                self.poller.stop()
                self._run(_finish(self._poller_task))
            if hasattr(self, "gateway"):
                self._run(self.gateway.close())
        finally:
            self._closed = True
            if hasattr(self, "loop"):
                self.loop.call_soon_threadsafe(self.loop.stop)
                self._thread.join(timeout=10)
            if hasattr(self, "runtime"):
                self.runtime.close()
            if hasattr(self, "instrumentation"):
                self.instrumentation.uninstall()
                function_clients.reset()
            if hasattr(self, "account"):
                self.account.stop()
            gc.unfreeze()
            with _active_lock:
                if self in _active:
                    _active.remove(self)

    def __enter__(self) -> Simulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        if not getattr(self, "_closed", True):
            self.close()
