"""The report says what binds, live, in the model's words: with posts slowed to a known
50 ms each (an injected delay, not this machine's speed) and one post at a time, twenty
clients need a second per update, so ten updates published back to back queue up behind
the stream handler; one update at a time does not."""

from __future__ import annotations

from fanoutsim.aws.quotas import GatewayQuotas
from fanoutsim.report import RunSnapshot, binding
from fanoutsim.simulator import Simulator
from fanoutsim.timing.distributions import Distribution
from fanoutsim.timing.profiles import load_profile

SLOW_POSTS = load_profile("instant").with_delay(
    "post_to_connection", Distribution.fixed(50.0, "test: 50 ms per post, injected")
)


def test_a_backlog_behind_the_stream_handler_is_named() -> None:
    # ten statuses of one flight back to back, each written (none superseded): ten records
    unordered = ("unordered-status-writes",)
    with Simulator(profile=SLOW_POSTS, post_concurrency=1, seed_bugs=unordered) as sim:
        sim.clients.add(20)
        sim.flights.load()
        for _ in range(10):
            sim.flights.publish("FS101", "BOARDING", "Group 1")
        sim.wait("settled", timeout=120)
        notes = sim.report().to_dict()["binding"]
    assert len(notes) == 1 and notes[0].startswith("stream handler falls behind: ")
    assert "posts/s needed" in notes[0] and "/s achieved" in notes[0]
    achieved = float(notes[0].split(", ")[1].split("/s")[0].replace(",", ""))
    assert achieved <= 1000 / 50  # one post at a time, 50 ms each: at most 20 a second


def test_updates_one_at_a_time_bind_nothing() -> None:
    with Simulator(profile=SLOW_POSTS, post_concurrency=1) as sim:
        sim.clients.add(5)
        sim.flights.load()
        for _ in range(3):
            sim.flights.publish("FS101", "BOARDING", "Group 1")
            sim.wait("settled", timeout=60)
        assert sim.report().to_dict()["binding"] == []
        assert "what binds" not in str(sim.report())


def test_throttling_is_named() -> None:
    with Simulator(quotas=GatewayQuotas(requests_per_s=5, requests_burst=2)) as sim:
        sim.clients.add(10)
        sim.flights.load(wait=False)
        sim.wait("idle", timeout=120)
        notes = sim.report().to_dict()["binding"]
    assert any(n.startswith("@connections throttle: ") for n in notes)


def test_binding_is_a_pure_function_of_the_snapshot() -> None:
    base = dict(
        profile="p",
        transport="t",
        endpoints={},
        clients=1,
        meter={},
        timelines=(),
        stream={},
        dropped={},
    )
    queued = RunSnapshot(
        **base,
        published=("a", "b", "c"),
        deliveries={"posted": 300},
        status_updates_at=(0.0, 0.1, 0.2),
        stream_batches=((1, 1000.0), (2, 2000.0)),
    )
    assert binding(queued) == [
        "stream handler falls behind: 1,000 posts/s needed, 100/s achieved (one invocation "
        "at a time per shard; batches grew to 2 records)"
    ]
    single = RunSnapshot(
        **base,
        published=("a", "b", "c"),
        deliveries={"posted": 300},
        status_updates_at=(0.0, 0.1, 0.2),
        stream_batches=((1, 1000.0), (1, 2000.0)),
    )
    assert binding(single) == []
