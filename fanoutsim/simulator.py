"""The simulator facade: the whole Pattern #3 stack on moto, with real WebSockets, behind a
small synchronous API for notebooks, widgets, the CLI and tests.

    with Simulator() as sim:
        sim.add_clients(5)
        sim.load_flights()
        sim.publish("FS101", "BOARDING", "Boarding group 1")
        sim.wait_for_deliveries()
        print(sim.report())

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
import secrets
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ParamSpec, TypeVar

from fanoutsim import one_at_a_time, stack
from fanoutsim.aws.authorizer import AuthorizerConfig
from fanoutsim.aws.esm import MappingConfig
from fanoutsim.aws.quotas import GatewayQuotas
from fanoutsim.builder import Options, Ports, Stack, Transport, build
from fanoutsim.client_verbs import ClientVerbs, open_only
from fanoutsim.deploy.remote import RemoteStack
from fanoutsim.errors import DeliveryTimeout, SimulatorError
from fanoutsim.faults import FaultPlan
from fanoutsim.feed import Changed, PipelineEvent
from fanoutsim.functions import flight_model
from fanoutsim.functions.stream_fanout import DEFAULT_POST_ATTEMPTS, DEFAULT_POST_CONCURRENCY
from fanoutsim.options import RestAuth, bind_host, reaches_others
from fanoutsim.report import Report, RunSnapshot, build_report
from fanoutsim.room import RoomSnapshot
from fanoutsim.runtime.function_runtime import Handler, Invocation
from fanoutsim.runtime.instrumentation import producer_call
from fanoutsim.sample_flights import sample_flights
from fanoutsim.stages import TRACE_FIELD
from fanoutsim.timing.profiles import TimingProfile, load_profile
from fanoutsim.tracing import Timeline, new_trace_id

__all__ = ["Simulator", "Transport"]

T = TypeVar("T")
P = ParamSpec("P")


def _credentials_for(host: str, room: bool) -> tuple[str, str]:
    """The well-known testing keys on loopback; a pair made for this run otherwise."""
    if reaches_others(host, room):
        return ("AKFS" + secrets.token_hex(8).upper(), secrets.token_urlsafe(30))
    return stack.DEFAULT_CREDENTIALS


class Simulator(ClientVerbs):
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
        routes: str | Mapping[str, str] = "fanoutsim",
        aws_endpoint: bool = False,
        host: str | None = None,
        ports: Ports | None = None,
        room: bool = False,
        public_host: str | None = None,
        fanout: str = "broadcast",
        post_concurrency: int = DEFAULT_POST_CONCURRENCY,
        post_attempts: int = DEFAULT_POST_ATTEMPTS,
        credentials: tuple[str, str] | None = None,
        authorizer: bool | AuthorizerConfig = False,
        denied_users: tuple[str, ...] = (),
        quotas: GatewayQuotas | None = None,
        timeouts: Mapping[str, float] | None = None,
        faults: FaultPlan | None = None,
        seed_bugs: bool | Sequence[str] = False,
        rest_auth: RestAuth = "none",
    ) -> None:
        """``routes``: ``"fanoutsim"`` (``subscribe``/``unsubscribe`` and ``$default``),
        ``"seed"`` (only ``$connect``/``$disconnect``, as the seed's API) or a mapping route
        key -> function. ``aws_endpoint``: also serve moto as an AWS endpoint for SDKs and
        the CLI (``endpoints["aws"]``). ``host`` and ``ports``: where to listen (loopback
        and free ports unless told otherwise; ``0.0.0.0`` for every interface). ``room``:
        open the room to other devices (listen on every interface unless ``host`` says
        otherwise): phones that open ``endpoints["room"]`` subscribe to this pipeline and
        :meth:`room` shows what each received. ``public_host``: the name or address to
        give them (default: the address of the interface with the default route).
        ``fanout``: ``"broadcast"`` (everyone hears every flight, as the seed) or
        ``"per-flight"`` (a flight's followers only).
        ``post_concurrency``: how many posts the stream handler keeps in flight.
        ``post_attempts``: how many times its SDK tries a post (429 or 5xx) before the
        record fails (1-10; 3, botocore's default).
        ``credentials``: the access key id and secret that management API calls must be
        signed with (SigV4; the handlers sign with them too): ``testing``/``testing`` on
        loopback, a random pair made for this run when other devices can reach it.
        ``authorizer``: put a REQUEST authorizer on ``$connect`` (True, or an
        :class:`AuthorizerConfig` for identity sources and caching); clients then need a
        token from :meth:`mint_token`, and ``denied_users`` get a Deny policy.
        ``quotas``: idle timeout, maximum connection duration, new-connection
        rate and the @connections throttle (AWS's by default).
        ``timeouts``: function name -> timeout in seconds (1-900). ``faults``: what to
        break (:class:`FaultPlan`; change it later with :meth:`use_faults`). ``seed_bugs``:
        reproduce the seed's defects (True for both, or names from ``stack.SEED_BUGS``).
        ``rest_auth``: ``"iam"`` makes ``GET /flights`` take only requests signed with
        ``credentials`` (SigV4), as the seed's IAM-authorised API does."""
        if transport not in ("http", "in-process"):
            raise SimulatorError(f"transport must be 'http' or 'in-process', not {transport!r}")
        self.profile = profile if isinstance(profile, TimingProfile) else load_profile(profile)
        self.transport: Transport = transport
        self.region = region
        self._closed = True  # until the stack is up
        self._watchers: dict[Callable[[str], None], Callable[[PipelineEvent], None]] = {}
        self._version_lock = threading.Lock()
        self._last_version = 0
        one_at_a_time.claim(self)
        bind = bind_host(host, room)
        try:
            options = Options(
                profile=self.profile,
                transport=transport,
                mapping=mapping or stack.DEFAULT_MAPPING,
                seed=seed,
                region=region,
                connect_token=connect_token,
                host=bind,
                room=room,
                public_host=public_host,
                routes=routes,
                ports=ports or Ports(),
                aws_endpoint=aws_endpoint,
                fanout=fanout,
                post_concurrency=post_concurrency,
                post_attempts=post_attempts,
                credentials=credentials or _credentials_for(bind, room),
                authorizer=AuthorizerConfig() if authorizer is True else authorizer or None,
                denied_users=tuple(denied_users),
                quotas=quotas or GatewayQuotas(),
                timeouts=dict(timeouts or {}),
                faults=faults or FaultPlan(),
                seed_bugs=stack.SEED_BUGS if seed_bugs is True else tuple(seed_bugs or ()),
                rest_auth=rest_auth,
            )
            self._stack: Stack = build(options)
        except BaseException:
            self._release()
            raise
        self._closed = False
        self.endpoints = dict(self._stack.endpoints)
        # The stack's long-lived objects (moto's models, botocore's service data) leave the
        # collector's view: otherwise a full collection stalls an update for ~70 ms.
        gc.collect()
        gc.freeze()

    @staticmethod
    def attach(outputs: Mapping[str, str] | str, **options: Any) -> RemoteStack:
        """The deployed stack with this class's verbs (:class:`RemoteStack`): ``outputs``
        as :func:`fanoutsim.deploy.cloudformation.deploy` returned them, or the name of a
        stack deployed from this machine (``region=`` too, unless it is the default)."""
        if isinstance(outputs, str):
            return RemoteStack.from_stack(outputs, **options)
        return RemoteStack(outputs, **options)

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
        self._stack.feed.subscribe(forward)

    def off_change(self, callback: Callable[[str], None]) -> None:
        """Stop calling ``callback`` (e.g. when a widget is replaced)."""
        forward = self._watchers.pop(callback, None)
        if forward is not None:
            self._stack.feed.unsubscribe(forward)

    @property
    def watcher_errors(self) -> list[str]:
        """Errors raised by change callbacks (they never break the pipeline)."""
        return list(self._stack.feed.errors)

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def post_concurrency(self) -> int:
        """How many posts the stream handler keeps in flight (what a waterfall draws)."""
        return self._stack.options.post_concurrency

    @property
    def published(self) -> list[str]:
        """Trace ids of every update that entered the pipeline, from here or from outside
        (an SDK or the CLI on the AWS endpoint), oldest first."""
        return self._stack.published

    # ----------------------------------------------------------------- producing
    @open_only
    def put_events(self, entries: list[dict[str, Any]]) -> dict[str, Any]:
        """Send raw ``PutEvents`` entries as a producer would; returns AWS's response."""
        token = producer_call.set(True)
        try:
            response: dict[str, Any] = self._stack.events.put_events(Entries=entries)
        finally:
            producer_call.reset(token)
        return response

    def _publish(self, detail_type: str, detail: dict[str, Any]) -> str:
        trace_id = new_trace_id()
        # before the call: it stamps put_events
        self._stack.expect(trace_id, detail.get("flightId"), detail_type)
        entry = stack.event_entry(detail_type, {**detail, TRACE_FIELD: trace_id})
        response = self.put_events([entry])
        if response["FailedEntryCount"]:
            error = response["Entries"][0]
            reason = f"{error.get('ErrorCode')}: {error.get('ErrorMessage')}"
            self._stack.feed.dropped((trace_id,), reason)
        return trace_id

    @open_only
    def publish(self, flight_id: str, status: str, details: str = "") -> str:
        """Publish a ``Flight status updated`` event; returns the update's trace id."""
        detail = {
            "flightId": flight_id,
            "event": status,
            "eventDetails": details,
            "version": self._next_version(),  # the order published, whatever order it runs
        }
        return self._publish(flight_model.STATUS_UPDATED, detail)

    def _next_version(self) -> int:
        """Microseconds since the epoch, strictly growing within this simulator."""
        with self._version_lock:
            self._last_version = max(time.time_ns() // 1000, self._last_version + 1)
            return self._last_version

    @open_only
    def schedule_flight(self, flight: dict[str, Any]) -> str:
        """Publish a ``New flight scheduled`` event; returns the update's trace id."""
        return self._publish(flight_model.NEW_FLIGHT, flight)

    @open_only
    def load_flights(self, wait: bool = True) -> list[str]:
        """Schedule the sample flights (and wait until every client has them)."""
        traces = [self.schedule_flight(f.flight) for f in sample_flights()]
        if wait:
            self.wait_for_deliveries()
            self.wait_until_idle()  # the table holds them even with no client connected
        return traces

    # ----------------------------------------------------------------- waiting
    def delivery_counts(self) -> dict[str, int]:
        """Owed pairs by outcome so far (cheap: what a live counter shows)."""
        return self._stack.deliveries.pairs()

    @open_only
    def missing(self) -> dict[str, set[str]]:
        """Expected deliveries not yet received, per trace id."""
        return self._stack.deliveries.outstanding()

    @open_only
    def wait_for_deliveries(self, timeout: float = 30.0) -> None:
        """Block until every connected client has every update published while it was there
        (updates that failed visibly are not waited for: see the report's dropped updates)."""
        if not self._stack.deliveries.wait(timeout):
            missing = self.missing()
            count = sum(len(v) for v in missing.values())
            raise DeliveryTimeout(
                f"{count} deliveries of {len(missing)} updates missing after {timeout:.0f} s"
            )

    @open_only
    def wait_until_idle(self, timeout: float = 30.0) -> None:
        """Block until no event is in flight, the stream is drained, no batch runs and every
        closed connection's ``$disconnect`` has run."""
        try:
            self._run(asyncio.wait_for(self._stack.idle(), timeout), timeout=None)
        except TimeoutError:
            raise SimulatorError(f"the pipeline was still busy after {timeout:.0f} s") from None

    @open_only
    def settle(self, timeout: float = 30.0) -> None:
        """Wait for every delivery, then for the pipeline to go idle (logs complete)."""
        self.wait_for_deliveries(timeout)
        self.wait_until_idle(timeout)

    # ----------------------------------------------------------------- observing
    @open_only
    def boards(self) -> dict[str, dict[str, dict[str, Any]]]:
        """Each client's flight board: client name -> flightId -> latest payload."""
        return {name: dict(c.board) for name, c in self._subscribers.clients.items()}

    def timeline(self, trace_id: str) -> Timeline:
        """The stamps of one update (see :mod:`fanoutsim.tracing`)."""
        return self._stack.tracer.timeline(trace_id)

    def latest_trace(self) -> str | None:
        """The trace id of the most recent publish, if any."""
        return self.published[-1] if self.published else None

    @open_only
    def connections(self) -> list[dict[str, Any]]:
        """The connections table's items."""
        return stack.scan_all(self._stack.dynamodb, stack.CONNECTIONS_TABLE)

    def connection_labels(self) -> dict[str, str]:
        """Connection id -> client name, for the connections the gateway holds open."""
        return self._stack.api.labels()

    @open_only
    def flights(self) -> list[dict[str, Any]]:
        """The flights table's items (the view model)."""
        return stack.scan_all(self._stack.dynamodb, stack.FLIGHTS_TABLE)

    def stream_records(self) -> list[dict[str, Any]]:
        """The stream records the poller has read (the newest
        :data:`~fanoutsim.runtime.poller.RECORDS_KEPT`), in Lambda's event shape."""
        assert self._stack.poller is not None
        return list(self._stack.poller.records_seen)

    def stream_counters(self) -> dict[str, int]:
        """The event source mapping's counters: invocations, retries, bisections, ..."""
        assert self._stack.mapping is not None
        return self._stack.mapping.counters()

    @property
    def mapping_config(self) -> MappingConfig:
        """The event source mapping's settings this simulator runs with."""
        return self._stack.options.mapping

    def invocations(self) -> list[Invocation]:
        """Recent function invocations (newest last)."""
        return list(self._stack.runtime.log)

    # ----------------------------------------------------------------- changing
    @open_only
    def replace_function(self, name: str, handler: Handler) -> None:
        """Deploy ``handler`` as a new version of function ``name`` (cold starts follow)."""
        self._stack.runtime.replace(name, handler)

    @open_only
    def use_faults(self, plan: FaultPlan) -> None:
        """Break what ``plan`` says from now on (``FaultPlan()`` for nothing); the report
        counts what was injected beside each pair's outcome."""
        self._stack.use_faults(plan)

    @property
    def faults(self) -> FaultPlan:
        """The fault plan in force."""
        assert self._stack.faults is not None
        return self._stack.faults.plan

    @open_only
    def inject_post_failures(self, count: int, *, after: int = 0, status: int = 500) -> None:
        """After ``after`` good posts, fail the next ``count`` PostToConnection calls with
        ``status`` (to show partial batch failures, retries and duplicate deliveries).

        boto3 retries a 5xx by itself (three attempts in botocore's default ``standard``
        retry mode, while its retry quota lasts), so it takes three failures in a row
        before the stream handler sees an error."""
        self._stack.api.inject_faults(count, after=after, status=status)

    # ----------------------------------------------------------------- reporting
    def snapshot(self) -> RunSnapshot:
        """Everything a report is made of, as of now."""
        return self._stack.snapshot()

    def report(self) -> Report:
        """Deliveries, per-stage latency and metered usage so far (and the room's devices,
        with a room)."""
        return build_report(self.snapshot())

    def room(self) -> RoomSnapshot:
        """The room's devices: name, when connected, updates received and missed, and
        latency p50/p99 from PutEvents to each device's acknowledgement; the last update's
        arrival on every device. Raises :class:`SimulatorError` without a room."""
        book = self._stack.room
        if book is None:
            raise SimulatorError("this simulator has no room; open one with Simulator(room=True)")
        return book.snapshot(time.perf_counter())

    # ----------------------------------------------------------------- closing
    def close(self) -> None:
        """Disconnect clients, stop the servers and moto; restore the environment."""
        if self._closed:
            return
        self._closed = True
        try:
            self._stack.close()
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
