"""The pipeline feed: typed events reach every subscriber; a broken one harms nobody."""

from __future__ import annotations

from fanoutsim.feed import Changed, Dropped, Feed, Passed, PipelineEvent


def test_events_reach_subscribers_until_they_unsubscribe() -> None:
    feed = Feed()
    first: list[PipelineEvent] = []
    second: list[PipelineEvent] = []
    feed.subscribe(first.append)
    feed.subscribe(second.append)
    feed.passed("post", ["t1"], at=1.5, key="c1")
    feed.unsubscribe(second.append)
    feed.dropped(["t2"], "why")
    feed.changed("connections")
    assert first == [
        Passed("post", ("t1",), 1.5, "c1"),
        Dropped(("t2",), "why"),
        Changed("connections"),
    ]
    assert second == [Passed("post", ("t1",), 1.5, "c1")]


def test_a_failing_subscriber_is_recorded_and_the_others_still_hear() -> None:
    feed = Feed()
    heard: list[PipelineEvent] = []

    def broken(event: PipelineEvent) -> None:
        raise KeyError("boom")

    feed.subscribe(broken)
    feed.subscribe(heard.append)
    feed.changed("message")
    assert heard == [Changed("message")]
    assert list(feed.errors) == ["KeyError: 'boom'"]


def test_dropping_nothing_publishes_nothing() -> None:
    feed = Feed()
    heard: list[PipelineEvent] = []
    feed.subscribe(heard.append)
    feed.dropped([], "no traced update in these records")
    assert heard == []
