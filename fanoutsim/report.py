"""The simulator's report: deliveries, per-stage latency and metered usage, with prices.

Latencies are measured on this machine (plus the timing profile's injected delays); usage is
counted by botocore hooks and the gateway, not estimated; dollar figures apply the packaged
price table (its source and date are part of the report).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fanoutsim.aws.pricing import Usage, cost_of, load_prices
from fanoutsim.functions.flight_model import NEW_FLIGHT, STATUS_UPDATED
from fanoutsim.stages import STAGES
from fanoutsim.stats import percentiles
from fanoutsim.tracing import Timeline, stage_samples

__all__ = [
    "DeliveryOutcomes",
    "Report",
    "RunSnapshot",
    "StageLatency",
    "build_report",
    "fanout_summary",
    "room_lines",
    "usage_of",
]


@dataclass(frozen=True)
class DeliveryOutcomes:
    """Every (update, client) pair the updates owed, by outcome (``expected = delivered +
    left + undelivered + missing``), the repeats, and the ``@connections`` calls."""

    expected: int
    delivered: int
    left: int
    undelivered: int
    missing: int
    duplicates: int
    repeated: int
    posted: int
    gone: int
    failed: int
    throttled: int


@dataclass(frozen=True)
class StageLatency:
    """One stage's latency (ms) over the updates the report covers (None: no sample)."""

    count: int
    p50: float | None
    p95: float | None
    p99: float | None


@dataclass(frozen=True)
class Report:
    """A snapshot of a run. ``print(report)`` for people; typed fields for code
    (``report.deliveries.missing``, ``report.stages["end_to_end"].p99``); ``to_dict()``
    for JSON and everything else."""

    data: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return self.data

    @property
    def deliveries(self) -> DeliveryOutcomes:
        fields = DeliveryOutcomes.__dataclass_fields__
        return DeliveryOutcomes(
            **{k: int(v) for k, v in self.data["deliveries"].items() if k in fields}
        )

    @property
    def stages(self) -> dict[str, StageLatency]:
        return {name: StageLatency(**figures) for name, figures in self.data["stages"].items()}

    @property
    def dropped_updates(self) -> dict[str, str]:
        """Updates that reached nobody: trace id -> why."""
        return dict(self.data["dropped_updates"])

    @property
    def binding(self) -> list[str]:
        """What binds in this run, in the model's words."""
        return list(self.data["binding"])

    @property
    def cost_usd(self) -> dict[str, float]:
        """What the run cost, per service (USD, at the packaged prices)."""
        return dict(self.data["cost_usd"])

    def __str__(self) -> str:
        d = self.data
        dl = d["deliveries"]
        lines = [
            f"fanoutsim report  profile={d['profile']}  transport={d['transport']}  "
            f"clients={d['clients']}  status updates={d['published']['status_updates']}  "
            f"flight loads={d['published']['flight_loads']}",
            f"deliveries (update x subscriber pairs): expected {dl['expected']} = delivered "
            f"{dl['delivered']} + left first {dl['left']} + undelivered {dl['undelivered']} "
            f"+ missing {dl['missing']};  {dl['repeated']} delivered more than once "
            f"({dl['duplicates']} duplicates)",
            f"@connections calls: posted {dl['posted']}  gone (410) {dl['gone']}  "
            f"failed {dl['failed']}  throttled (429) {dl['throttled']}",
            "",
            f"{'stage':<18}{'count':>8}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}",
        ]
        window = d.get("stages_over", {})
        if window.get("forgotten"):
            lines.insert(
                -1,
                f"stages over the latest {window['updates']:,} updates (the "
                f"{window['forgotten']:,} before them were forgotten to bound memory)",
            )
        for name, stats in d["stages"].items():
            cells = [
                f"{stats[k]:>10.2f}" if stats[k] is not None else f"{'-':>10}"
                for k in ("p50", "p95", "p99")
            ]
            lines.append(f"{name:<18}{stats['count']:>8}{''.join(cells)}")
        if d.get("binding"):
            lines += ["", "what binds:"] + [f"  - {note}" for note in d["binding"]]
        lines += ["", "metered operations:"]
        lines += [f"  {op:<45}{n:>8}" for op, n in sorted(d["operations"].items())]
        if d.get("outside_operations"):
            lines += ["", "calls from outside (SDKs and the CLI on the AWS endpoint):"]
            lines += [f"  {op:<45}{n:>8}" for op, n in sorted(d["outside_operations"].items())]
        inv = d["invocations"]
        lines += ["", "function invocations (count / cold / errors / GB-s):"]
        lines += [
            f"  {fn:<18}{v['count']:>6}{v['cold']:>6}{v['errors']:>6}{v['gb_seconds']:>12.6f}"
            for fn, v in sorted(inv.items())
        ]
        cost = d["cost_usd"]
        lines += [
            "",
            f"cost of this run (USD, {d['prices']}): "
            + ", ".join(f"{k} {v:.8f}" for k, v in cost.items()),
        ]
        if d.get("room") is not None:
            lines += ["", *room_lines(d["room"])]
        fan = d.get("fanout")
        if fan:
            lines += [
                "",
                f"fan-out {fan['mode']} (up to {fan['post_concurrency']} posts at once): "
                f"{fan['owed']} deliveries owed; a broadcast to the same clients would owe "
                f"{fan['broadcast_would_owe']}, {fan['saved_messages']} more "
                f"(USD {fan['saved_usd']:.8f} in messages)",
            ]
        faults = d.get("faults")
        if faults:
            plan = {k: v for k, v in faults["plan"].items() if v and k != "seed"}
            injected = faults["injected"]
            lines += [
                "",
                "faults planned: " + ", ".join(f"{k}={v}" for k, v in plan.items()),
                "faults injected: "
                + ", ".join(
                    f"{k}={len(v) if isinstance(v, list) else v}" for k, v in injected.items()
                ),
            ]
        if d["dropped_updates"]:
            lines += ["", "updates that produced no delivery:"]
            lines += [f"  {t}: {why}" for t, why in d["dropped_updates"].items()]
        return "\n".join(lines)


def usage_of(meter: dict[str, Any], architecture: str = "x86") -> Usage:
    """Turn a meter snapshot into billable usage for :func:`cost_of` (the seed's Kinesis
    stream prorated by the hour it has existed)."""
    kinesis = meter.get("kinesis") or {}
    return Usage(
        websocket_messages=meter["websocket"]["units"],
        connection_minutes=meter["connection_minutes"],
        lambda_requests=sum(v["count"] for v in meter["invocations"].values()),
        lambda_gb_seconds=sum(v["gb_seconds"] for v in meter["invocations"].values()),
        architecture=architecture,
        dynamodb_write_units=meter["dynamodb"]["write_units"],
        dynamodb_read_units=meter["dynamodb"]["read_units"],
        eventbridge_events=meter["eventbridge_events"],
        dynamodb_cdc_units=kinesis.get("cdc_units", 0),
        kinesis_stream_hours=kinesis.get("stream_hours", 0.0),
        kinesis_gb_in=kinesis.get("bytes_in", 0) / 1024**3,
        kinesis_gb_out=kinesis.get("bytes_out", 0) / 1024**3,
    )


@dataclass(frozen=True)
class RunSnapshot:
    """What a report is made of, taken from a running simulator at one moment."""

    profile: str
    transport: str
    endpoints: dict[str, str]
    clients: int
    published: tuple[str, ...]
    deliveries: dict[str, int]
    meter: dict[str, Any]
    timelines: tuple[Timeline, ...]
    stream: dict[str, Any]
    dropped: dict[str, str]
    fanout: dict[str, Any] = field(default_factory=dict)
    faults: dict[str, Any] = field(default_factory=dict)
    published_kinds: dict[str, int] = field(default_factory=dict)
    #: When each status update entered the pipeline (perf_counter), oldest first.
    status_updates_at: tuple[float, ...] = ()
    #: (records, duration ms) of each recent stream handler invocation.
    stream_batches: tuple[tuple[int, float], ...] = ()
    #: (updates whose stamps the stages are over, older updates forgotten): the tracer's
    #: window, see :class:`fanoutsim.tracing.Tracer`.
    stages_over: tuple[int, int] = (0, 0)
    #: The room's devices (:meth:`fanoutsim.room.RoomSnapshot.to_dict`), with a room.
    room: dict[str, Any] | None = None


def room_lines(room: dict[str, Any]) -> list[str]:
    """The room section of a printed report: one line per device, slowest last."""

    def ms(value: float | None) -> str:
        return f"{value:>8.1f}" if value is not None else f"{'-':>8}"

    lines = [
        f"room {room['url']}: {room['connected']} device(s) connected "
        "(latency: PutEvents to the device's acknowledgement, this machine's clock)",
        f"  {'device':<24}{'received':>9}{'missed':>8}{'p50 ms':>8}{'p99 ms':>8}",
    ]
    devices = sorted(room["devices"], key=lambda d: d["latency_ms"]["p50"] or 0.0)
    lines += [
        f"  {d['name']:<24}{d['received']:>9}{d['missed']:>8}"
        f"{ms(d['latency_ms']['p50'])}{ms(d['latency_ms']['p99'])}"
        + ("" if d["connected"] else "  (left)")
        for d in devices
    ]
    return lines


def binding(run: RunSnapshot) -> list[str]:
    """What binds in this run, in the model's words: the stream handler falls behind when
    records queue up (batches of more than one) while the updates ask for more posts a
    second than its invocations achieve; the @connections throttle when calls got 429."""
    notes = []
    largest = max((records for records, _ in run.stream_batches), default=0)
    busy_s = sum(ms for _, ms in run.stream_batches) / 1000
    at = sorted(run.status_updates_at)
    posted = run.deliveries.get("posted", 0)
    if largest > 1 and len(at) >= 3 and busy_s > 0 and at[-1] > at[0]:
        per_update = posted / max(1, len(run.published))
        need = per_update * (len(at) - 1) / (at[-1] - at[0])
        achieved = posted / busy_s
        if need > achieved:
            notes.append(
                f"stream handler falls behind: {need:,.0f} posts/s needed, {achieved:,.0f}/s "
                f"achieved (one invocation at a time per shard; batches grew to {largest} "
                "records)"
            )
    throttled = run.deliveries.get("throttled", 0)
    if throttled:
        notes.append(
            f"@connections throttle: {throttled:,} calls answered 429 (retried by the SDK, "
            "then by the event source mapping, at the price of duplicates)"
        )
    return notes


def fanout_summary(fanout: dict[str, Any], meter: dict[str, Any], prices: Any) -> dict[str, Any]:
    """What the fan-out mode sent against what a broadcast to the same clients would have:
    deliveries saved, and their price at the run's average message size (messages only)."""
    if not fanout:
        return {}
    ws = meter["websocket"]
    units_per_message = ws["units"] / ws["messages"] if ws["messages"] else 1.0
    saved = fanout["broadcast_would_owe"] - fanout["owed"]
    price = prices["apigateway_websocket_messages"]
    return {
        **fanout,
        "saved_messages": saved,
        "saved_usd": price.charge(saved * units_per_message),
    }


def build_report(run: RunSnapshot) -> Report:
    """Turn a :class:`RunSnapshot` into a :class:`Report` (stage percentiles, prices)."""
    meter = run.meter
    samples = stage_samples(run.timelines)
    prices = load_prices()
    data = {
        "profile": run.profile,
        "transport": run.transport,
        "endpoints": dict(run.endpoints),
        "clients": run.clients,
        "updates": len(run.published),
        "published": {
            "status_updates": run.published_kinds.get(STATUS_UPDATED, 0),
            "flight_loads": run.published_kinds.get(NEW_FLIGHT, 0),
            "other": sum(
                n for k, n in run.published_kinds.items() if k not in (STATUS_UPDATED, NEW_FLIGHT)
            ),
        },
        "deliveries": dict(run.deliveries),
        "stages": {name: percentiles(samples[name]) for name, _, _ in STAGES},
        "stages_over": {"updates": run.stages_over[0], "forgotten": run.stages_over[1]},
        "operations": dict(meter["operations"]),
        "outside_operations": dict(meter["outside_operations"]),
        "operations_by_function": dict(meter["operations_by_function"]),
        "tables_by_function": dict(meter["tables_by_function"]),
        "invocations": meter["invocations"],
        "websocket": meter["websocket"],
        "connection_minutes": meter["connection_minutes"],
        "eventbridge_events": meter["eventbridge_events"],
        "kinesis": dict(meter["kinesis"]),
        "stream": dict(run.stream),
        "dropped_updates": dict(run.dropped),
        "fanout": fanout_summary(run.fanout, meter, prices),
        "faults": run.faults,
        "binding": binding(run),
        "cost_usd": cost_of(usage_of(meter), prices),
        "prices": prices.describe(),
    }
    if run.room is not None:
        data["room"] = run.room
    return Report(data)
