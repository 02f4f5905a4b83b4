"""Builds the stack described in :mod:`fanoutsim.stack` on moto, wires its components, and
tears it down again, in reverse order.

Read :func:`build` top to bottom to see the whole pipeline assembled: moto's account and
its patches, the meter and the feed, the function runtime, the loop thread with the
gateway (WebSocket and HTTP sides over one management API), the bus delivery, the stream
poller and the subscribers. Each component gets what it needs at construction; the only
calls that run through the feed are observations (trace stamps, dropped updates, change
notifications), never a step of the pipeline.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import boto3

from fanoutsim import stack, tracing
from fanoutsim.addresses import reach, url_host
from fanoutsim.aws import eventbridge
from fanoutsim.aws.esm import StreamMapping
from fanoutsim.aws.management import ManagementApi
from fanoutsim.aws.metering import Meter
from fanoutsim.aws.patterns import matches
from fanoutsim.aws.sigv4 import SigningKeys
from fanoutsim.deliveries import Deliveries
from fanoutsim.faults import FaultInjector, FaultPlan
from fanoutsim.feed import Feed
from fanoutsim.functions import aws_clients, flight_model, stream_fanout, tokens
from fanoutsim.moto.account import MotoAccount
from fanoutsim.moto.capacity import MotoCapacity
from fanoutsim.moto.hooks import MotoHooks
from fanoutsim.moto.server import AwsEndpoint, Guard
from fanoutsim.options import Options, Ports, Transport
from fanoutsim.report import RunSnapshot
from fanoutsim.room import RoomBook
from fanoutsim.runtime import descriptors
from fanoutsim.runtime.delays import Delays
from fanoutsim.runtime.event_bus import EventBusDispatcher
from fanoutsim.runtime.function_runtime import FunctionRuntime
from fanoutsim.runtime.gateway import Gateway
from fanoutsim.runtime.gateway_http import GatewayHttp
from fanoutsim.runtime.http_server import HttpServer
from fanoutsim.runtime.inprocess import InProcessTransport
from fanoutsim.runtime.instrumentation import Instrumentation
from fanoutsim.runtime.loop_thread import LoopThread
from fanoutsim.runtime.poller import StreamPoller
from fanoutsim.runtime.subscribers import SubscriberPool
from fanoutsim.stages import TRACE_FIELD
from fanoutsim.tracing import Tracer, new_trace_id

__all__ = ["Options", "Ports", "Stack", "Transport", "build"]

_FINISH_S = 2.0  # how long a stopping task may take before it is cancelled


@dataclass
class Stack:
    """The running components of one simulator. :meth:`close` stops them all."""

    options: Options
    account: MotoAccount
    hooks: MotoHooks
    meter: Meter
    feed: Feed
    tracer: Tracer
    deliveries: Deliveries
    delays: Delays
    instrumentation: Instrumentation
    runtime: FunctionRuntime
    dynamodb: Any
    events: Any
    streams: Any
    loop: LoopThread | None = None
    api: ManagementApi = field(default_factory=ManagementApi)
    gateway: Gateway | None = None
    http: HttpServer | None = None
    inprocess: InProcessTransport | None = None
    bus: EventBusDispatcher | None = None
    mapping: StreamMapping | None = None
    poller: StreamPoller | None = None
    poller_task: asyncio.Task[None] | None = None
    subscribers: SubscriberPool | None = None
    aws: AwsEndpoint | None = None
    faults: FaultInjector | None = None
    room: RoomBook | None = None
    #: What people and outside clients are given (the advertised host, never 0.0.0.0).
    endpoints: dict[str, str] = field(default_factory=dict)
    published: list[str] = field(default_factory=list)  # trace ids, oldest first
    #: How many of them were of each detail type (flight loads apart from status updates).
    published_kinds: Counter[str] = field(default_factory=Counter)
    kind_of: dict[str, str] = field(default_factory=dict)  # trace id -> detail type
    closed: bool = False
    _traced: set[str] = field(default_factory=set)
    _trace_lock: threading.Lock = field(default_factory=threading.Lock)

    async def sever(self, names: list[str]) -> None:
        """Cut these clients' network: no ``$disconnect``, their rows go stale, and the
        deliveries still owed to them end as "left" (on the loop)."""
        assert self.gateway is not None and self.subscribers is not None
        for name in names:
            self.gateway.sever(name)
        await asyncio.gather(*(self.subscribers.forget(n) for n in names))

    def sever_newest(self, n: int) -> list[str]:
        """Cut the ``n`` newest clients (from any thread but the loop's); their names."""
        assert self.loop is not None and self.subscribers is not None
        names = list(self.subscribers.clients)[-n:] if n > 0 else []
        self.loop.run(self.sever(names))
        return names

    def use_faults(self, plan: FaultPlan) -> None:
        """Follow ``plan`` from now on."""
        assert self.faults is not None and self.subscribers is not None
        self.faults.use(plan)
        self.subscribers.make_slow(plan.slow_clients, plan.slow_client_s)

    def expect(
        self, trace_id: str, flight_id: str | None = None, detail_type: str = "other"
    ) -> None:
        """An update of ``flight_id`` enters the pipeline: it owes a delivery to every
        subscriber connected now that is to hear it (all of them under broadcast, the
        flight's followers under per-flight), and passes ``put_events`` (once per trace id,
        whoever calls)."""
        with self._trace_lock:
            if trace_id in self._traced:
                return
            self._traced.add(trace_id)
            self.published.append(trace_id)
            self.published_kinds[detail_type] += 1
            self.kind_of[trace_id] = detail_type
        clients = dict(self.subscribers.clients) if self.subscribers is not None else {}
        if self.options.fanout == "per-flight":
            owed = [n for n, c in clients.items() if flight_id in c.flights]
        else:
            owed = list(clients)
        self.deliveries.expect(trace_id, owed, audience=len(clients))
        self.feed.passed("put_events", (trace_id,))

    def admit(self, entry: dict[str, Any]) -> dict[str, Any]:
        """An accepted PutEvents entry, from any caller (the simulator, an SDK or the CLI on
        the AWS endpoint): meter it, give it a trace id if it has none, expect its
        deliveries. Returns the entry EventBridge is to deliver."""
        self.meter.eventbridge_event(eventbridge.entry_size(entry))
        detail = json.loads(entry["Detail"])
        trace_id = tracing.from_detail(detail)
        if trace_id is None:
            trace_id = new_trace_id()
            entry = {**entry, "Detail": json.dumps({**detail, TRACE_FIELD: trace_id})}
        flight = detail.get("flightId") if isinstance(detail, dict) else None
        kind = entry.get("DetailType")
        self.expect(trace_id, flight if isinstance(flight, str) else None, str(kind or "other"))
        if not _reaches_the_rule(entry, detail):  # accepted, and delivered nowhere
            self.feed.dropped(
                (trace_id,),
                "no rule matched: EventBridge accepted the entry and delivered it nowhere "
                f"(bus {entry.get('EventBusName', 'default')!r}, source "
                f"{entry.get('Source')!r}, detail-type {kind!r})",
            )
        return entry

    def snapshot(self) -> RunSnapshot:
        """Everything a report is made of, as of now."""
        assert self.poller is not None and self.mapping is not None
        clients = self.subscribers.clients if self.subscribers is not None else {}
        pairs = self.deliveries.pairs()
        counts = self.api.snapshot()
        duplicates, repeated = self.subscribers.duplicates() if self.subscribers else (0, 0)
        dropped = dict(self.deliveries.dropped)
        timelines = self.tracer.timelines()
        return RunSnapshot(
            profile=self.options.profile.name,
            transport=self.options.transport,
            endpoints=dict(self.endpoints),
            clients=len(clients),
            published=tuple(self.published),
            published_kinds=dict(self.published_kinds),
            status_updates_at=tuple(
                at
                for timeline in timelines
                if self.kind_of.get(timeline.trace_id) == flight_model.STATUS_UPDATED
                and (at := timeline.points.get("put_events")) is not None
            ),
            stream_batches=tuple(
                (len(i.event.get("Records", [])), i.duration_ms)
                for i in list(self.runtime.log)
                if i.function == "stream_fanout"
            ),
            deliveries={
                **pairs,
                "duplicates": duplicates,
                "repeated": repeated,
                "gone": counts["gone"],
                "failed": counts["failed"],
                "throttled": counts["throttled"],
                "posted": counts["posted"],
            },
            meter=self.meter.snapshot(time.time()),
            timelines=tuple(t for t in timelines if t.trace_id not in dropped),
            stages_over=(len(timelines), self.tracer.forgotten),
            stream={
                **self.mapping.counters(),
                "discarded_records": self.poller.discarded,
                "poller_errors": list(self.poller.errors),
            },
            dropped=dropped,
            faults=self.faults.snapshot() if self.faults is not None else {},
            fanout={
                "mode": self.options.fanout,
                "post_concurrency": self.options.post_concurrency,
                "owed": pairs["expected"],
                "broadcast_would_owe": self.deliveries.audience_total(),
            },
            room=self.room.snapshot(time.perf_counter()).to_dict() if self.room else None,
        )

    async def idle(self) -> None:
        """Return once no event is in flight, the stream is drained, no batch runs and every
        closed connection's ``$disconnect`` has run."""
        assert self.bus is not None and self.poller is not None and self.gateway is not None
        while True:
            await self.gateway.quiet()
            await self.bus.drained()
            await self.poller.drained()
            if not self.bus.pending and not self.gateway.settling():
                return

    def close(self) -> None:
        """Stop everything, newest first; safe on a half-built stack and when called twice."""
        if self.closed:
            return
        self.closed = True
        try:
            if self.loop is not None:
                with contextlib.suppress(Exception):
                    self.loop.run(self._stop_on_loop(), timeout=30)
                self.loop.stop()
        finally:
            self.runtime.close()
            if self.inprocess is not None:
                self.inprocess.uninstall()
            if self.faults is not None:
                self.faults.uninstall()
            self.instrumentation.uninstall()
            aws_clients.reset()
            stream_fanout.reset()
            if self.aws is not None:
                self.aws.stop()
            self.hooks.remove()
            self.account.stop()

    async def _stop_on_loop(self) -> None:
        if self.subscribers is not None:
            await self.subscribers.close()
        if self.poller is not None and self.poller_task is not None:
            self.poller.stop()
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(self.poller_task, _FINISH_S)
        if self.bus is not None:
            await self.bus.close()
        if self.gateway is not None:
            await self.gateway.close()
        if self.http is not None:
            await self.http.close()


def build(options: Options) -> Stack:
    """Build and start the stack; on any failure, stop what was started and re-raise."""
    account = MotoAccount(options.region, options.environment())
    meter, feed, delays = Meter(), Feed(), Delays(options.profile, options.seed)
    instrumentation = Instrumentation(meter, MotoCapacity(account), delays)
    instrumentation.install()  # before any client exists: clients copy the hooks
    aws_clients.reset()  # the handlers' cached clients belong to the previous stack
    built = Stack(
        options=options,
        account=account,
        hooks=MotoHooks(account),
        meter=meter,
        feed=feed,
        tracer=Tracer(),
        deliveries=Deliveries(),
        delays=delays,
        instrumentation=instrumentation,
        runtime=FunctionRuntime(
            options.functions(), meter, delays, feed, region=options.region, account=stack.ACCOUNT
        ),
        dynamodb=boto3.client("dynamodb", region_name=options.region),
        events=boto3.client("events", region_name=options.region),
        streams=boto3.client("dynamodbstreams", region_name=options.region),
        api=ManagementApi(throttle=options.quotas.request_bucket()),
    )
    built.faults = FaultInjector(built.runtime, built.api, built.sever_newest)
    built.faults.install()
    try:
        _assemble(built)
        built.use_faults(options.faults)
    except BaseException:
        built.close()
        raise
    return built


def _assemble(s: Stack) -> None:
    options = s.options
    s.feed.subscribe(s.tracer.observe)
    s.feed.subscribe(s.deliveries.observe)
    s.deliveries.on_settled = s.tracer.settle
    s.deliveries.settle_by_what_was_read = options.fanout == "per-flight"
    stream_arn = stack.create_tables(s.dynamodb)
    stack.create_bus(s.events, options.region)

    # Where to listen, what to tell people, which Host names to answer (docs/workshop.md).
    where = reach(options.host, options.guarded, options.public_host)
    internal, allowed = url_host(where.internal), where.allowed
    if options.room:
        s.room = RoomBook()
        s.feed.subscribe(s.room.observe)

    s.loop = LoopThread()
    s.gateway = Gateway(
        s.api,
        s.runtime,
        s.meter,
        s.feed,
        s.delays,
        routes=options.routes_wired(),
        stage=stack.STAGE,
        host=options.host,
        port=options.ports.websocket,
        authorizer=options.authorizer,
        region=options.region,
        account=stack.ACCOUNT,
        quotas=options.quotas,
        allowed_hosts=allowed,
        room=s.room,
        pipeline_descriptors=descriptors.pipeline_need(options.post_concurrency),
    )
    keys = SigningKeys({options.credentials[0]: options.credentials[1]}, options.region)
    http = GatewayHttp(
        s.api,
        s.gateway,
        s.runtime,
        stage=stack.STAGE,
        rest_routes=stack.REST_ROUTES,
        endpoints=lambda: dict(s.endpoints),
        keys=keys,
        allowed_hosts=allowed,
        signed_rest=options.rest_auth == "iam",
    )
    s.http = HttpServer(http.handle, options.host, options.ports.http)
    s.loop.run(s.http.start())
    s.gateway.domain_name = f"{internal}:{s.http.port}"  # {domainName}/{stage}
    s.loop.run(s.gateway.start())
    management = f"http://{internal}:{s.http.port}/{stack.STAGE}"
    websocket = f"ws://{internal}:{s.gateway.port}/{stack.STAGE}"
    public = where.public
    base = f"http://{public}:{s.http.port}"
    s.endpoints.update(
        websocket=f"ws://{public}:{s.gateway.port}/{stack.STAGE}",
        management=f"{base}/{stack.STAGE}",
        rest=f"{base}/{stack.STAGE}",
        page=f"{base}/",
    )
    if s.room is not None:
        s.room.url = s.endpoints["room"] = f"{base}/room"
    os.environ["WEBSOCKET_ENDPOINT"] = management
    if options.transport == "in-process":
        s.inprocess = InProcessTransport(s.api, s.gateway.send_threadsafe, management, keys)
        s.inprocess.install()

    # EventBridge: PutEvents validated and metered, the rule's matches delivered to its target.
    s.bus = EventBusDispatcher(s.runtime, s.delays, s.feed, s.loop.loop)
    bus = s.bus
    s.hooks.validate_put_events(s.admit)
    s.hooks.validate_rules()
    s.hooks.deliver_rule(stack.BUS, stack.RULE, lambda event: bus.submit(stack.RULE_TARGET, event))

    # DynamoDB Streams: the mapping's state machine, the poller, and the commit hook that
    # stamps each write and wakes the poller.
    s.mapping = StreamMapping(options.mapping)
    s.poller = StreamPoller(
        s.streams,
        stream_arn,
        s.mapping,
        s.runtime,
        "stream_fanout",
        s.feed,
        s.delays,
        region=options.region,
        poll_interval_s=options.profile.stream_poll_interval_ms / 1000,
    )
    poller = s.poller

    def committed(trace_ids: tuple[str, ...], at: float) -> None:
        s.feed.passed("table_write", trace_ids, at)
        poller.wake()

    s.hooks.watch_stream(stack.FLIGHTS_TABLE, committed)
    s.hooks.expire_shard_iterators()
    s.hooks.pickle_stream_records(stack.FLIGHTS_TABLE)
    s.poller_task = s.loop.run(_start_task(poller))
    s.subscribers = SubscriberPool(websocket, s.feed)
    s.subscribers.on_left = s.deliveries.forget_clients
    if options.authorizer is not None:
        s.subscribers.token_for = lambda user: tokens.mint(user, options.auth_secret)
    if options.aws_endpoint:  # moto's server mode on the same backends, for outside callers
        s.aws = AwsEndpoint(
            options.host, options.ports.aws, s.meter.count_outside_call, Guard(keys, allowed)
        )
        s.endpoints["aws"] = f"http://{public}:{s.aws.port}"


def _reaches_the_rule(entry: dict[str, Any], detail: Any) -> bool:
    """Whether an accepted entry is on the stack's bus and matches its one rule."""
    event = {
        "source": entry.get("Source"),
        "detail-type": entry.get("DetailType"),
        "detail": detail,
    }
    bus = str(entry.get("EventBusName") or "default").rsplit("/", 1)[-1]
    return bus == stack.BUS and matches(stack.RULE_PATTERN, event)


async def _start_task(poller: StreamPoller) -> asyncio.Task[None]:
    return asyncio.ensure_future(poller.run())
