"""Builds the stack described in :mod:`fanoutsim.stack` on moto, wires its components, and
tears it down again, in reverse order.

Read :func:`build` top to bottom to see the whole pipeline assembled: moto's account and
its patches, the meter and the feed, the function runtime, the loop thread with the
gateway (WebSocket and HTTP sides over one management API), the bus delivery, the stream
poller and the subscribers. Each component gets what it needs at construction, and each
one started registers how it stops on one :class:`contextlib.ExitStack`, so a half-built
stack and a running one stop the same way. The only calls that run through the feed are
observations (trace stamps, dropped updates, change notifications), never a step of the
pipeline.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import boto3

from fanoutsim import provision, stack
from fanoutsim.addresses import reach, url_host
from fanoutsim.aws.esm_lanes import ShardMapping
from fanoutsim.aws.management import ManagementApi
from fanoutsim.aws.metering import Meter
from fanoutsim.aws.sigv4 import SigningKeys
from fanoutsim.deliveries import Deliveries
from fanoutsim.faults import FaultInjector, FaultPlan
from fanoutsim.feed import Feed
from fanoutsim.functions import aws_clients, stream_fanout, tokens
from fanoutsim.ledger import Ledger
from fanoutsim.moto.account import MotoAccount
from fanoutsim.moto.capacity import MotoCapacity
from fanoutsim.moto.hooks import MotoHooks
from fanoutsim.moto.server import AwsEndpoint, Guard
from fanoutsim.options import Options, Ports, Transport
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
from fanoutsim.runtime.kinesis_source import KinesisSource
from fanoutsim.runtime.loop_thread import LoopThread
from fanoutsim.runtime.poller import StreamPoller
from fanoutsim.runtime.subscribers import SubscriberPool
from fanoutsim.tracing import Tracer

__all__ = ["Components", "Options", "Ports", "Transport", "build"]

_FINISH_S = 2.0  # how long a stopping task may take before it is cancelled
_STOP_S = 30.0  # how long stopping the loop's side may take in all


@dataclass
class Components:
    """The running components of one simulator, complete from construction on;
    :meth:`close` stops them all, newest first."""

    options: Options
    account: MotoAccount
    hooks: MotoHooks
    meter: Meter
    feed: Feed
    tracer: Tracer
    deliveries: Deliveries
    ledger: Ledger
    delays: Delays
    runtime: FunctionRuntime
    dynamodb: Any
    events: Any
    loop: LoopThread
    api: ManagementApi
    gateway: Gateway
    bus: EventBusDispatcher
    mapping: ShardMapping
    poller: StreamPoller
    subscribers: SubscriberPool
    injector: FaultInjector
    #: What people and outside clients are given (the advertised host, never 0.0.0.0).
    endpoints: dict[str, str]
    teardown: contextlib.ExitStack = field(repr=False)
    room: RoomBook | None = None
    closed: bool = False

    async def sever(self, names: list[str]) -> None:
        """Cut these clients' network: no ``$disconnect``, their rows go stale, and the
        deliveries still owed to them end as "left" (on the loop)."""
        for name in names:
            self.gateway.sever(name)
        await asyncio.gather(*(self.subscribers.forget(n) for n in names))

    def use_faults(self, plan: FaultPlan) -> None:
        """Follow ``plan`` from now on."""
        self.injector.use(plan)
        self.subscribers.make_slow(plan.slow_clients, plan.slow_client_s)

    async def idle(self) -> None:
        """Return once no event is in flight, the stream is drained, no batch runs and every
        closed connection's ``$disconnect`` has run."""
        while True:
            await self.gateway.quiet()
            await self.bus.drained()
            await self.poller.drained()
            if not self.bus.pending and not self.gateway.settling():
                return

    def close(self) -> None:
        """Stop everything, newest first; safe to call twice."""
        if not self.closed:
            self.closed = True
            self.teardown.close()


def build(options: Options) -> Components:
    """Build and start the stack; on any failure, stop what was started and re-raise."""
    with contextlib.ExitStack() as exits:
        components = _build(options, exits)
        components.teardown = exits.pop_all()
        return components


def _build(options: Options, exits: contextlib.ExitStack) -> Components:
    account = MotoAccount(options.region, options.environment())
    exits.callback(account.stop)
    hooks = MotoHooks(account)
    exits.callback(hooks.remove)
    meter, feed, delays = Meter(), Feed(), Delays(options.profile, options.seed)
    instrumentation = Instrumentation(meter, MotoCapacity(account), delays)
    instrumentation.install()  # before any client exists: clients copy the hooks
    exits.callback(instrumentation.uninstall)
    aws_clients.reset()  # the handlers' cached clients belong to the previous stack
    exits.callback(aws_clients.reset)
    exits.callback(stream_fanout.reset)
    # What a user's function process finds in its environment (endpoints filled in below).
    child_env: dict[str, str] = {}

    def function_environment() -> dict[str, str]:
        own = {k: os.environ[k] for k in stack.ENVIRONMENT_KEYS if k in os.environ}
        return own | child_env

    runtime = FunctionRuntime(
        options.function_specs(),
        meter,
        delays,
        feed,
        region=options.region,
        account=stack.ACCOUNT,
        codes=options.functions,
        environment=function_environment,
    )
    exits.callback(runtime.close)
    tracer, deliveries = Tracer(), Deliveries()
    feed.subscribe(tracer.observe)
    feed.subscribe(deliveries.observe)
    deliveries.on_settled = tracer.settle
    deliveries.settle_by_what_was_read = options.fanout == "per-flight"
    dynamodb = boto3.client("dynamodb", region_name=options.region)
    stream_arn = provision.create_tables(dynamodb)
    events = boto3.client("events", region_name=options.region)
    provision.create_bus(events, options.region)

    # Where to listen, what to tell people, which Host names to answer (docs/workshop.md).
    where = reach(options.host, options.guarded, options.public_host)
    internal, allowed = url_host(where.internal), where.allowed
    room = RoomBook() if options.room else None
    if room is not None:
        feed.subscribe(room.observe)

    loop = LoopThread()
    exits.callback(loop.stop)
    on_loop = _on_loop(loop, exits)
    api = ManagementApi(throttle=options.quotas.request_bucket())
    gateway = Gateway(
        api,
        runtime,
        meter,
        feed,
        delays,
        routes=options.routes_wired(),
        stage=stack.STAGE,
        host=options.host,
        port=options.ports.websocket,
        authorizer=options.authorizer,
        region=options.region,
        account=stack.ACCOUNT,
        quotas=options.quotas,
        allowed_hosts=allowed,
        room=room,
        pipeline_descriptors=descriptors.pipeline_need(options.post_concurrency),
    )
    keys = SigningKeys({options.credentials[0]: options.credentials[1]}, options.region)
    endpoints: dict[str, str] = {}
    http = HttpServer(
        GatewayHttp(
            api,
            gateway,
            runtime,
            stage=stack.STAGE,
            rest_routes=stack.REST_ROUTES,
            endpoints=lambda: dict(endpoints),
            keys=keys,
            allowed_hosts=allowed,
            signed_rest=options.rest_auth == "iam",
        ).handle,
        options.host,
        options.ports.http,
    )
    loop.run(http.start())
    on_loop(http.close)
    gateway.domain_name = f"{internal}:{http.port}"  # {domainName}/{stage}
    loop.run(gateway.start())
    on_loop(gateway.close)
    management = f"http://{internal}:{http.port}/{stack.STAGE}"
    base = f"http://{where.public}:{http.port}"
    endpoints.update(
        websocket=f"ws://{where.public}:{gateway.port}/{stack.STAGE}",
        management=f"{base}/{stack.STAGE}",
        rest=f"{base}/{stack.STAGE}",
        page=f"{base}/",
    )
    if room is not None:
        room.url = endpoints["room"] = f"{base}/room"
    os.environ["WEBSOCKET_ENDPOINT"] = management
    if options.transport == "in-process":
        inprocess = InProcessTransport(api, gateway.send_threadsafe, management, keys)
        inprocess.install()
        exits.callback(inprocess.uninstall)

    # The clients, and the ledger that owes them deliveries.
    subscribers = SubscriberPool(f"ws://{internal}:{gateway.port}/{stack.STAGE}", feed)
    on_loop(subscribers.close)
    subscribers.on_left = deliveries.forget_clients
    if options.authorizer is not None:
        subscribers.token_for = lambda user: tokens.mint(user, options.auth_secret)
    ledger = Ledger(deliveries, feed, meter, lambda: subscribers.clients, options.fanout)

    # EventBridge: PutEvents validated and metered, the rule's matches delivered to its target.
    bus = EventBusDispatcher(runtime, delays, feed, loop.loop)
    on_loop(bus.close)
    hooks.validate_put_events(ledger.admit)
    hooks.validate_rules()
    hooks.deliver_rule(stack.BUS, stack.RULE, lambda event: bus.submit(stack.RULE_TARGET, event))

    # DynamoDB Streams: the mapping's state machine, the poller, and the commit hook that
    # stamps each write and wakes the poller.
    kinesis_feed = options.stream == "kinesis"
    mapping = ShardMapping(options.mapping, shards=options.kinesis_shards if kinesis_feed else 1)
    source = None
    poll_s = options.profile.stream_poll_interval_ms / 1000
    if kinesis_feed:  # the seed's feed: the table's changes in Kinesis
        kinesis = boto3.client("kinesis", region_name=options.region)
        change_arn, change_name = provision.create_change_stream(kinesis, options.kinesis_shards)
        hooks.kinesis_destination(stack.FLIGHTS_TABLE, change_arn, change_name, meter.kinesis_put)
        meter.kinesis_stream_opened(time.time())
        source = KinesisSource(
            kinesis, change_arn, change_name, region=options.region, on_read=meter.kinesis_read
        )
    on_failure = _failure_sink(options)
    poller = StreamPoller(
        boto3.client("dynamodbstreams", region_name=options.region),
        stream_arn,
        mapping,
        runtime,
        "stream_fanout",
        feed,
        delays,
        region=options.region,
        poll_interval_s=poll_s,
        source=source,
        on_failure=on_failure,
    )

    def committed(trace_ids: tuple[str, ...], at: float) -> None:
        feed.passed("table_write", trace_ids, at)
        poller.wake()

    hooks.watch_stream(stack.FLIGHTS_TABLE, committed)
    hooks.expire_shard_iterators()
    hooks.cache_action_names()
    hooks.pickle_stream_records(stack.FLIGHTS_TABLE)
    task = loop.run(_start_task(poller))
    on_loop(lambda: _finish(poller, task))

    # moto's server mode on the same backends, for outside callers and users' functions
    if options.aws_endpoint or options.functions:
        aws = AwsEndpoint(
            options.host, options.ports.aws, meter.count_endpoint_call, Guard(keys, allowed)
        )
        exits.callback(aws.stop)
        endpoints["aws"] = f"http://{where.public}:{aws.port}"
        child_env["AWS_ENDPOINT_URL"] = f"http://{internal}:{aws.port}"
    child_env["WEBSOCKET_ENDPOINT"] = management

    components = Components(
        options=options,
        account=account,
        hooks=hooks,
        meter=meter,
        feed=feed,
        tracer=tracer,
        deliveries=deliveries,
        ledger=ledger,
        delays=delays,
        runtime=runtime,
        dynamodb=dynamodb,
        events=events,
        loop=loop,
        api=api,
        gateway=gateway,
        bus=bus,
        mapping=mapping,
        poller=poller,
        subscribers=subscribers,
        injector=FaultInjector(runtime, api, lambda n: _sever_newest(components, n)),
        endpoints=endpoints,
        teardown=exits,
        room=room,
    )
    components.injector.install()
    exits.callback(components.injector.uninstall)
    components.use_faults(options.faults)
    return components


def _on_loop(
    loop: LoopThread, exits: contextlib.ExitStack
) -> Callable[[Callable[[], Coroutine[Any, Any, None]]], None]:
    """Register a coroutine that stops a component on the loop (errors and a component
    slower than the loop's stop allows do not keep the rest from stopping)."""

    def register(stop: Callable[[], Coroutine[Any, Any, None]]) -> None:
        def run() -> None:
            with contextlib.suppress(Exception):
                loop.run(stop(), timeout=_STOP_S)

        exits.callback(run)

    return register


def _failure_sink(options: Options) -> Callable[[dict[str, Any]], None] | None:
    """Sends an on-failure record to the mapping's SQS destination (made in moto), if set."""
    destination = options.mapping.on_failure_destination
    if destination is None:
        return None
    sqs = boto3.client("sqs", region_name=options.region)
    url = provision.create_failure_queue(
        sqs, destination, region=options.region, account=stack.ACCOUNT
    )

    def send(record: dict[str, Any]) -> None:
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(record))

    return send


async def _finish(poller: StreamPoller, task: asyncio.Task[None]) -> None:
    poller.stop()
    with contextlib.suppress(TimeoutError, asyncio.CancelledError):
        await asyncio.wait_for(task, _FINISH_S)


def _sever_newest(components: Components, n: int) -> list[str]:
    """Cut the ``n`` newest clients (from any thread but the loop's); their names."""
    names = list(components.subscribers.clients)[-n:] if n > 0 else []
    components.loop.run(components.sever(names))
    return names


async def _start_task(poller: StreamPoller) -> asyncio.Task[None]:
    return asyncio.ensure_future(poller.run())
