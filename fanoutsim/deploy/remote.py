"""The deployed stack, driven with the simulator's verbs: real WebSocket clients on its
``wss://`` endpoint, updates published on its bus with boto3, and ``GET /flights`` on its
HTTP API.

What it can know, it measures on this side: who received which update and when (end to
end, from sending ``PutEvents`` to the first receipt), the calls it made, the messages it
got. What only AWS knows (invocations, durations, iterator age, API Gateway's message
count) it reads from CloudWatch when asked (:meth:`DeployedStack.cloudwatch`), and says so.
The same code drives the local simulator's endpoints in the tests, so the path that talks
to AWS is the path that is tested.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from fanoutsim import stack
from fanoutsim.clients import ClientPool
from fanoutsim.deliveries import Deliveries
from fanoutsim.deploy import state
from fanoutsim.deploy.cloudwatch import read_metrics
from fanoutsim.deploy.template import FUNCTION_NAMES_OUTPUT
from fanoutsim.errors import DeliveryTimeout, DeployError
from fanoutsim.feed import Changed, Feed, PipelineEvent
from fanoutsim.flights import Flights
from fanoutsim.functions import tokens
from fanoutsim.functions.stream_fanout import DEFAULT_POST_CONCURRENCY
from fanoutsim.html_text import escape
from fanoutsim.pipeline import Until
from fanoutsim.runtime.loop_thread import LoopThread
from fanoutsim.runtime.subscribers import SubscriberPool
from fanoutsim.sample_flights import sample_flights
from fanoutsim.stages import TRACE_FIELD
from fanoutsim.stats import percentiles
from fanoutsim.tracing import Timeline, Tracer, new_trace_id

__all__ = [
    "DeployedClients",
    "DeployedFlights",
    "DeployedReport",
    "DeployedSettings",
    "DeployedStack",
]

#: How long :meth:`DeployedFlights.load` waits for scheduled flights to reach the view model.
SETTLE_TIMEOUT_S: Final = 30.0


def _cell(value: Any) -> str:
    """A figure for people: floats to 0.1, mappings as ``key value`` pairs, None as -."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.1f}"
    if isinstance(value, Mapping):
        return ", ".join(f"{k} {_cell(v)}" for k, v in value.items()) or "-"
    return f"{value:,}" if isinstance(value, int) else str(value)


class DeployedReport(dict[str, Any]):
    """:meth:`DeployedStack.report`'s figures: a plain dict for code, a table in a notebook
    and in ``print`` (floats rounded to 0.1)."""

    def rows(self) -> list[tuple[str, str]]:
        return [(key.replace("_", " "), _cell(value)) for key, value in self.items()]

    def __str__(self) -> str:
        width = max((len(k) for k, _ in self.rows()), default=0)
        return "\n".join(f"{k:<{width}}  {v}" for k, v in self.rows())

    def _repr_html_(self) -> str:
        cells = "".join(
            f'<tr><th style="text-align:left">{escape(k)}</th>'
            f'<td style="text-align:left">{escape(v)}</td></tr>'
            for k, v in self.rows()
        )
        return f"<table>{cells}</table>"


@dataclass(frozen=True)
class _Profile:
    name: str


@dataclass(frozen=True)
class DeployedSettings:
    """What a panel shows of a deployed stack's settings (its timing is AWS's own)."""

    fanout: str
    region: str
    post_concurrency: int
    profile: _Profile = _Profile("deployed")


class DeployedStack:
    """A deployed stack's endpoints (``deploy()``'s outputs), with the verbs the
    notebooks' widgets use: add and remove clients, publish, wait, boards, report."""

    def __init__(
        self,
        outputs: Mapping[str, str],
        *,
        region: str | None = None,
        session: Any = None,
        auth_secret: str | None = None,
        endpoint_url: str | None = None,
        local: bool = False,
    ) -> None:
        missing = [k for k in ("WebSocketEndpoint", "EventBusName") if not outputs.get(k)]
        if missing:
            raise DeployError(f"the stack's outputs lack {', '.join(missing)}")
        import boto3

        self.outputs = dict(outputs)
        #: True for a simulator attached as if deployed (its figures are this machine's).
        self.local = local
        self.endpoints = {
            "websocket": outputs["WebSocketEndpoint"],
            "rest": outputs.get("ApiEndpoint", ""),
            "management": outputs.get("ManagementEndpoint", ""),
        }
        #: What the widgets read of a stack's settings (the profile names the source).
        self._session = session or boto3.Session(region_name=region)
        self.options = DeployedSettings(
            fanout=outputs.get("FanoutMode", "broadcast"),
            region=region or self._session.region_name or stack.REGION,
            post_concurrency=DEFAULT_POST_CONCURRENCY,
        )
        self._endpoint_url = endpoint_url
        self._events = self._session.client("events", region_name=region, endpoint_url=endpoint_url)
        self.calls: Counter[str] = Counter()
        self.feed = Feed()
        self.deliveries = Deliveries()
        self.tracer = Tracer()
        self.feed.subscribe(self.deliveries.observe)
        self.feed.subscribe(self.tracer.observe)
        self._watchers: dict[Callable[[str], None], Callable[[PipelineEvent], None]] = {}
        self._loop = LoopThread("fanoutsim-remote")
        self._pool = SubscriberPool(self.endpoints["websocket"], self.feed)
        self._pool.on_left = self._left
        if auth_secret:
            self._pool.token_for = lambda name: tokens.mint(name, auth_secret)
        self.closed = False
        self.started = datetime.now(UTC)
        self.clients = DeployedClients(self)
        self.flights = DeployedFlights(self)

    @classmethod
    def of_simulator(cls, sim: Any) -> DeployedStack:
        """A running :class:`~fanoutsim.simulator.Simulator` (started with
        ``aws_endpoint=True``) seen as a deployed stack: the same code path that talks to
        AWS, on this machine's endpoints (the tests and notebook 07's dry run use it)."""
        import boto3

        if "aws" not in sim.endpoints:
            raise DeployError("the simulator needs aws_endpoint=True to be attached to")
        key, secret = sim.options.credentials
        session = boto3.Session(
            aws_access_key_id=key, aws_secret_access_key=secret, region_name=sim.options.region
        )
        outputs = {
            "WebSocketEndpoint": sim.endpoints["websocket"],
            "ApiEndpoint": sim.endpoints["rest"],
            "ManagementEndpoint": sim.endpoints["management"],
            "EventBusName": stack.BUS,
            "FanoutMode": sim.options.fanout,
        }
        return cls(
            outputs,
            region=sim.options.region,
            session=session,
            auth_secret=sim.options.auth_secret,
            endpoint_url=sim.endpoints["aws"],
            local=True,
        )

    @classmethod
    def from_stack(
        cls, stack_name: str, region: str | None = None, **options: Any
    ) -> DeployedStack:
        """A stack deployed from this machine, by name (its outputs and secret were saved)."""
        import boto3

        region = region or boto3.Session().region_name or stack.REGION
        saved = state.load(stack_name, region)
        if not saved.get("outputs"):
            raise DeployError(
                f"no deployment of {stack_name} in {region} is recorded on this machine "
                f"({state.path_of(stack_name, region)}); deploy it first, or pass its outputs"
            )
        options.setdefault("auth_secret", saved.get("auth_secret"))
        return cls(saved["outputs"], region=region, **options)

    # ----------------------------------------------------------------- clients
    def _left(self, names: list[str]) -> None:
        self.deliveries.forget_clients(names)
        self.feed.changed("connections")

    def ping_rtts(self, n: int, client: str | None = None, timeout_s: float = 10.0) -> list[float]:
        """``n`` WebSocket ping round trips (ms) from ``client`` (the oldest by default)."""
        clients = self._pool.clients
        chosen = clients.get(client) if client else next(iter(clients.values()), None)
        if chosen is None or chosen.ws is None:
            raise DeployError("ping_rtts needs a connected client: clients.add(1) first")
        ws = chosen.ws

        async def measure() -> list[float]:
            rtts = []
            for _ in range(n):
                started = time.perf_counter()
                async with asyncio.timeout(timeout_s):
                    await (await ws.ping())
                rtts.append((time.perf_counter() - started) * 1000)
            return rtts

        try:
            return self._loop.run(measure(), timeout=None)
        except TimeoutError:
            raise DeployError(
                f"no pong within {timeout_s:.0f} s: the endpoint does not answer pings"
            ) from None

    # ----------------------------------------------------------------- waiting
    def wait(self, until: Until = "delivered", timeout: float = 30.0) -> None:
        """What this side can wait for, whatever ``until`` asks: every owed delivery
        (AWS's queues are not visible from here)."""
        if not self.deliveries.wait(timeout):
            missing = self.deliveries.outstanding()
            count = sum(len(v) for v in missing.values())
            raise DeliveryTimeout(
                f"{count} deliveries of {len(missing)} updates missing after {timeout:.0f} s "
                "(a failure inside the stack, such as an update of a flight never scheduled, "
                "is not visible from here: see cloudwatch() and the functions' logs)"
            )

    # ----------------------------------------------------------------- observing
    def timeline(self, trace_id: str) -> Timeline:
        """The stamps this side saw: ``put_events`` and each client's ``receipt``."""
        return self.tracer.timeline(trace_id)

    def on_change(self, callback: Callable[[str], None]) -> None:
        def forward(event: PipelineEvent) -> None:
            if isinstance(event, Changed):
                callback(event.kind)

        self._watchers[callback] = forward
        self.feed.subscribe(forward)

    def off_change(self, callback: Callable[[str], None]) -> None:
        forward = self._watchers.pop(callback, None)
        if forward is not None:
            self.feed.unsubscribe(forward)

    def delivery_counts(self) -> dict[str, int]:
        """Owed pairs by outcome so far (cheap: what a live counter shows)."""
        return self.deliveries.pairs()

    def report(self) -> DeployedReport:
        """What this side measured: deliveries by outcome, end-to-end latency (PutEvents
        sent -> first receipt, ms), duplicates, and the calls it made."""
        latencies: list[float] = []
        for trace in self.flights.published:
            latencies.extend(self.tracer.timeline(trace).durations_ms("put_events", "receipt"))
        return DeployedReport(
            {
                "source": "measured by the clients on this machine",
                "endpoints": dict(self.endpoints),
                "clients": len(self._pool.clients),
                "updates": len(self.flights.published),
                "deliveries": self.deliveries.pairs(),
                "dropped_updates": dict(self.deliveries.dropped),
                "duplicates": self._pool.duplicates()[0],
                "end_to_end_ms": percentiles(latencies),
                "client_calls": dict(sorted(self.calls.items())),
            }
        )

    def cloudwatch(self, minutes: int | None = None) -> dict[str, float]:
        """AWS's own figures since this stack was attached (or the last ``minutes``), from
        CloudWatch: API Gateway's connects, messages and integration errors (keyed
        ``namespace:metric:statistic``), and each function's invocations, errors and mean
        duration, and the stream function's iterator age (keyed ``...:function``)."""
        client = self._session.client("cloudwatch", endpoint_url=self._endpoint_url)
        now = datetime.now(UTC)
        start = now - timedelta(minutes=minutes) if minutes else self.started
        end = now + timedelta(minutes=1)  # so the current minute's period is complete
        api_id = self.endpoints["websocket"].split("//", 1)[-1].split(".", 1)[0]
        return read_metrics(client, api_id, self.function_names(), start, end)

    def function_names(self) -> dict[str, str]:
        """Each function's physical name, from the stack's outputs (a stack deployed before
        they named every function gives the stream function alone)."""
        listed = self.outputs.get(FUNCTION_NAMES_OUTPUT, "")
        names = dict(pair.split("=", 1) for pair in listed.split(",") if "=" in pair)
        if not names and self.outputs.get("StreamFunctionName"):
            names["stream_fanout"] = self.outputs["StreamFunctionName"]
        return names

    # ----------------------------------------------------------------- closing
    def close(self) -> None:
        """Disconnect every client and stop the loop (the stack stays deployed)."""
        if self.closed:
            return
        self.closed = True
        try:
            self._loop.run(self._pool.close(), timeout=30)
        finally:
            self._loop.stop()

    def __enter__(self) -> DeployedStack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class DeployedClients(ClientPool):
    """The deployed stack's clients: real WebSocket clients on its endpoint."""

    def __init__(self, deployed: DeployedStack) -> None:
        super().__init__(deployed._pool, deployed._loop, lambda: deployed.closed)
        self._deployed = deployed

    def _joined(self, n: int) -> None:
        self._deployed.calls["websocket:connect"] += n
        self._deployed.feed.changed("connections")


class DeployedFlights(Flights):
    """The deployed stack's producer: ``PutEvents`` on its bus with boto3, the view model
    from its ``GET /flights``."""

    def __init__(self, deployed: DeployedStack) -> None:
        super().__init__(lambda: deployed.closed)
        self._deployed = deployed
        self._published: list[str] = []
        self._lock = threading.Lock()
        #: Half of each update's ``PutEvents`` round trip (ms): the upload from this
        #: machine, part of its end-to-end time but not of the pipeline's.
        self.upload_ms: dict[str, float] = {}

    def _send(self, detail_type: str, detail: dict[str, Any]) -> str:
        d = self._deployed
        trace_id = new_trace_id()
        clients = dict(d._pool.clients)
        flight_id = detail.get("flightId")
        per_flight = d.options.fanout == "per-flight"
        owed = [n for n, c in clients.items() if not per_flight or flight_id in c.flights]
        d.deliveries.expect(trace_id, owed, audience=len(clients))
        with self._lock:
            self._published.append(trace_id)
        entry = stack.event_entry(detail_type, {**detail, TRACE_FIELD: trace_id})
        entry["EventBusName"] = d.outputs["EventBusName"]
        d.feed.passed("put_events", (trace_id,))  # sent: a fast delivery beats the answer
        sent = time.perf_counter()
        response = d._events.put_events(Entries=[entry])
        self.upload_ms[trace_id] = (time.perf_counter() - sent) * 1000 / 2
        d.calls["events:PutEvents"] += 1
        if response["FailedEntryCount"]:
            error = response["Entries"][0]
            d.feed.dropped((trace_id,), f"{error.get('ErrorCode')}: {error.get('ErrorMessage')}")
        return str(trace_id)

    def _present(self) -> set[str]:
        # only the simulator sees a flight scheduled twice reach nobody: skip the ones
        # GET /flights already lists
        if not self._deployed.endpoints["rest"]:
            return set()
        return {str(f.get("flightId")) for f in self.rows()}

    def _settle(self) -> None:
        """Every owed delivery, then every sample flight in ``GET /flights``: a flight
        nobody follows (per-flight) is owed to no one, yet :meth:`load` promises it is in
        the view model."""
        self._deployed.wait()
        if not self._deployed.endpoints["rest"]:
            return
        wanted = {f.flight_id for f in sample_flights()}
        deadline = time.monotonic() + SETTLE_TIMEOUT_S
        while not wanted <= self._present():
            if time.monotonic() > deadline:
                missing = sorted(wanted - self._present())
                raise DeliveryTimeout(
                    f"{len(missing)} scheduled flights not in GET /flights after "
                    f"{SETTLE_TIMEOUT_S:.0f} s: {', '.join(missing)}"
                )
            time.sleep(0.1)

    @property
    def published(self) -> list[str]:
        with self._lock:
            return list(self._published)

    def rows(self) -> list[dict[str, Any]]:
        """The view model, from the deployed ``GET /flights``."""
        d = self._deployed
        url = d.endpoints["rest"].rstrip("/") + "/flights"
        with urllib.request.urlopen(url, timeout=15) as response:
            d.calls["http:GET /flights"] += 1
            flights: list[dict[str, Any]] = json.loads(response.read())
        return flights
