"""The report says what its stage percentiles are over."""

from __future__ import annotations

import time

from fanoutsim.aws.metering import Meter
from fanoutsim.report import RunSnapshot, build_report
from fanoutsim.tracing import Tracer


def _report(tracer: Tracer) -> str:
    timelines = tuple(tracer.timelines())
    run = RunSnapshot(
        profile="p",
        transport="t",
        endpoints={},
        clients=1,
        published=tuple(t.trace_id for t in timelines),
        deliveries=dict.fromkeys(
            (
                "expected",
                "delivered",
                "left",
                "undelivered",
                "missing",
                "duplicates",
                "repeated",
                "posted",
                "gone",
                "failed",
                "throttled",
            ),
            0,
        ),
        meter=Meter().snapshot(time.time()),
        timelines=timelines,
        stream={},
        dropped={},
        stages_over=(len(timelines), tracer.forgotten),
    )
    return str(build_report(run))


def _settled(tracer: Tracer, n: int) -> None:
    for k in range(n):
        tracer.stamp(f"t{k}", "put_events", 0.0)
        tracer.stamp(f"t{k}", "receipt", 0.1, key="c")
        tracer.settle(f"t{k}")


def test_a_report_over_a_window_says_how_many_updates_it_forgot() -> None:
    tracer = Tracer(keep_stamps=4)  # two stamps an update: the latest two stay
    _settled(tracer, 5)
    assert "stages over the latest 2 updates (the 3 before them were forgotten" in (_report(tracer))


def test_a_report_that_forgot_nothing_says_nothing_of_a_window() -> None:
    tracer = Tracer()
    _settled(tracer, 5)
    assert "stages over the latest" not in _report(tracer)


def test_the_typed_fields_read_the_same_figures_as_the_dict() -> None:
    from fanoutsim import Simulator

    with Simulator() as sim:
        sim.clients.add(2)
        sim.flights.load()
        sim.flights.publish("FS101", "BOARDING", "Group 1")
        sim.wait("settled")
        report = sim.report()
    d = report.to_dict()
    outcomes = report.deliveries
    assert outcomes.expected == d["deliveries"]["expected"] == 14  # 7 updates x 2 clients
    assert outcomes.expected == outcomes.delivered + outcomes.left + outcomes.undelivered
    assert outcomes.missing == 0 and outcomes.posted == d["deliveries"]["posted"]
    end_to_end = report.stages["end_to_end"]
    assert end_to_end.count == d["stages"]["end_to_end"]["count"] == 14
    assert end_to_end.p50 is not None and end_to_end.p50 <= (end_to_end.p99 or 0)
    assert report.dropped_updates == {} and report.binding == []
    assert report.cost_usd == d["cost_usd"] and sum(report.cost_usd.values()) > 0
