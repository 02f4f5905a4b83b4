from __future__ import annotations

import pytest

from fanoutsim.tracing import Tracer, stage_samples


def test_stage_durations_per_update_and_per_connection() -> None:
    tracer = Tracer()
    for point, at in [
        ("put_events", 0.0),
        ("handler_start", 0.010),
        ("table_write", 0.015),
        ("stream_record", 0.030),
        ("fanout_start", 0.040),
    ]:
        tracer.stamp("t", point, at)
    tracer.stamp("t", "post", 0.050, key="a")
    tracer.stamp("t", "post", 0.060, key="b")
    tracer.stamp("t", "receipt", 0.052, key="a")
    tracer.stamp("t", "receipt", 0.065, key="b")
    tracer.stamp("t", "receipt", 0.999, key="a")  # a duplicate keeps the first receipt
    samples = stage_samples([tracer.timeline("t")])
    assert samples["eventbridge"] == pytest.approx([10.0])
    assert samples["post"] == pytest.approx([10.0, 20.0])
    assert samples["client_network"] == pytest.approx([2.0, 5.0])
    assert samples["end_to_end"] == pytest.approx([52.0, 65.0])


def test_unknown_point_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown trace point"):
        Tracer().stamp("t", "teleported")


def test_one_extractor_per_representation_finds_the_same_trace_id() -> None:
    import json

    from fanoutsim import tracing
    from fanoutsim.functions.flight_model import client_payload

    detail = {"flightId": "FS1", "event": "BOARDING", "traceId": "abc"}
    image = {"flightId": {"S": "FS1"}, "traceId": {"S": "abc"}}
    record = {"dynamodb": {"NewImage": image}}
    payload = client_payload({"flightId": "FS1", "traceId": "abc"}, "MODIFY")
    assert tracing.from_detail(detail) == "abc"
    assert tracing.from_image(image) == "abc"
    assert tracing.from_records([record, {"dynamodb": {}}]) == ("abc",)
    assert tracing.from_message(payload) == "abc"
    assert tracing.from_payload(json.dumps(payload).encode()) == "abc"
    assert tracing.from_payload(json.dumps(payload, separators=(",", ":")).encode()) == "abc"
    for untraced in ({}, None, {"traceId": 7}, {"traceId": ""}):
        assert tracing.from_detail(untraced) is None
    assert tracing.from_image({"traceId": {"N": "1"}}) is None
    assert tracing.from_payload(b'{"flightId": "FS1"}') is None


def test_tracer_observes_passed_events_from_the_feed() -> None:
    from fanoutsim.feed import Feed

    tracer, feed = Tracer(), Feed()
    feed.subscribe(tracer.observe)
    feed.passed("put_events", ("t",), at=1.0)
    feed.passed("receipt", ("t",), at=1.25, key="c1")
    feed.dropped(("t",), "ignored by the tracer")
    assert tracer.timeline("t").durations_ms("put_events", "receipt") == [250.0]


def _fan_out(tracer: Tracer, trace: str, labels: list[str]) -> None:
    tracer.stamp(trace, "put_events", 0.0)
    for n, label in enumerate(labels):
        tracer.stamp(trace, "post", 0.010 + n / 1e4, key=label)
        tracer.stamp(trace, "receipt", 0.012 + n / 1e4, key=label)


def test_a_settled_update_keeps_its_durations_in_packed_stamps() -> None:
    tracer = Tracer()
    labels = [f"client-{n}" for n in range(50)]
    _fan_out(tracer, "t", labels)
    unpacked = stage_samples([tracer.timeline("t")])
    tracer.settle("t")
    timeline = tracer.timeline("t")
    assert not isinstance(timeline.per_connection["post"], dict)
    assert stage_samples([timeline]) == unpacked
    assert timeline.per_connection["receipt"]["client-7"] == pytest.approx(0.0127)
    tracer.stamp("t", "receipt", 5.0, key="client-7")  # a duplicate keeps the first, packed
    assert not isinstance(timeline.per_connection["receipt"], dict)
    tracer.stamp("t", "receipt", 0.5, key="late-joiner")  # a new stamp unpacks
    assert timeline.per_connection["receipt"]["late-joiner"] == 0.5
    assert len(timeline.per_connection["receipt"]) == 51


def test_packed_stamps_take_under_two_fifths_of_the_memory() -> None:
    """The report's window of settled updates holds packed stamps: 300 updates to 85
    subscribers each retain under two fifths once packed (about 2.9 KB an
    update against 7.8 KB loose)."""
    import gc
    import tracemalloc

    labels = [f"client-{n}" for n in range(85)]
    gc.collect()
    tracemalloc.start()
    tracer = Tracer()
    for n in range(300):
        _fan_out(tracer, f"trace-{n}", labels)
    gc.collect()
    loose = tracemalloc.get_traced_memory()[0]
    for n in range(300):
        tracer.settle(f"trace-{n}")
    gc.collect()
    packed = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert packed < loose * 0.4, f"{packed} bytes packed against {loose} loose"


def test_the_window_forgets_the_oldest_settled_updates_and_never_an_owed_one() -> None:
    """Memory stays bounded over hours: past ``keep_stamps`` the oldest settled updates
    go whole, an update still owed stays, and a late stamp cannot bring one back."""
    labels = [f"client-{n}" for n in range(10)]  # 1 + 10 + 10 = 21 stamps an update
    tracer = Tracer(keep_stamps=50)
    _fan_out(tracer, "owed", labels)  # never settles: a pair still missing
    for n in range(5):
        _fan_out(tracer, f"t{n}", labels)
        tracer.settle(f"t{n}")
    kept = [t.trace_id for t in tracer.timelines()]
    assert kept == ["owed", "t3", "t4"]
    assert tracer.forgotten == 3
    tracer.stamp("t0", "receipt", 9.0, key="late")
    assert "t0" not in [t.trace_id for t in tracer.timelines()]
    assert tracer.timeline("t0").per_connection["receipt"] == {}
    samples = stage_samples(tracer.timelines())
    assert len(samples["end_to_end"]) == 30  # exact over the window: 3 updates x 10 clients


def test_a_window_of_no_stamps_is_refused() -> None:
    with pytest.raises(ValueError, match="keep_stamps"):
        Tracer(keep_stamps=0)
