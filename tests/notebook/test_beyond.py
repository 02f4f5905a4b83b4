"""Notebook 06's helpers: live runs by fan-out mode agree with the model, and the pictures
draw what they are given."""

from __future__ import annotations

import uuid

from fanoutsim.notebook import beyond
from fanoutsim.runtime.function_runtime import Invocation
from fanoutsim.sample_flights import flight_id


def test_flight_ids_start_with_the_sample_flights_and_are_unique() -> None:
    ids = beyond.flight_ids(10)
    assert ids[:2] == [flight_id("FS101"), flight_id("FS202")] and len(set(ids)) == 10
    assert all(uuid.UUID(i) for i in ids) and beyond.flight_ids(10) == ids  # every run alike
    assert beyond.flight(ids[9])["flightId"] == ids[9]


def test_live_posts_per_update_match_the_model_in_both_modes() -> None:
    live = beyond.live_modes(clients=20, flights=4, updates=2)
    modelled, monthly = beyond.modelled_modes(clients=20, flights=4)
    assert [r.posts_per_update for r in live] == [20.0, 5.0]  # everyone, a flight's followers
    assert [r.posts_per_update for r in modelled] == [20.0, 5.0]
    assert monthly["per-flight"] < monthly["broadcast"]
    figure = beyond.modes_figure(live, modelled, monthly, small="20 over 4", large="20 over 4")
    assert len(figure.axes) == 2


def _invocation(function: str, started: float, **outcome: object) -> Invocation:
    invocation = Invocation(function, "id", {}, cold=False, started=started, duration_ms=500)
    for key, value in outcome.items():
        setattr(invocation, key, value)
    return invocation


def test_each_invocation_is_a_bar_coloured_by_its_outcome() -> None:
    shown = [
        _invocation("stream_fanout", 0.0, timed_out=True, error="Task timed out"),
        _invocation("stream_fanout", 1.0, result={"batchItemFailures": [{"itemIdentifier": "1"}]}),
        _invocation("stream_fanout", 2.0, result={"batchItemFailures": []}),
        _invocation("on_connect", 0.5, error="boom"),
    ]
    figure = beyond.invocations_figure(shown, ["stream_fanout", "on_connect"], title="t")
    bars = figure.axes[0].patches
    colours = [tuple(round(c, 3) for c in bar.get_facecolor()[:3]) for bar in bars]
    assert len(bars) == 4 and len(set(colours)) == 4  # timed out, records failed, ok, error
    assert [bar.get_x() for bar in bars] == [0.0, 1.0, 2.0, 0.5]
