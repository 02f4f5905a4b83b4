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
