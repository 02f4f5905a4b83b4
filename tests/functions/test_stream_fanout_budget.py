"""The stream handler's time guard, in both fan-out modes: it learns its slowest record and
stops while twice that still fits, so no record starts with too little time left (on
Lambda, running past the timeout loses the batch's answer and posts it all again).

AWS page: https://docs.aws.amazon.com/lambda/latest/dg/python-context.html
(``get_remaining_time_in_millis``).
"""

from __future__ import annotations

from typing import Any

import pytest

from fanoutsim.functions import stream_fanout

BUDGET_S = 1.0
RECORD_S = 0.4  # each record's posts take this long on the fake clock


class Clock:
    """Time that moves only when a record is posted, and a Lambda context reading it."""

    def __init__(self) -> None:
        self.now = 0.0
        self.left_at_start: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def get_remaining_time_in_millis(self) -> int:
        return int((BUDGET_S - self.now) * 1000)


def _record(n: int) -> dict[str, Any]:
    return {
        "eventName": "MODIFY",
        "dynamodb": {
            "SequenceNumber": str(n),
            "NewImage": {"flightId": {"S": f"FS{n}"}, "status": {"S": "BOARDING"}},
        },
    }


@pytest.mark.parametrize("mode", ["broadcast", "per-flight"])
def test_no_record_starts_with_less_than_twice_the_slowest_left(
    mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()

    def post(ids: list[str], data: bytes, concurrency: int = 1) -> list[str]:
        clock.left_at_start.append(BUDGET_S - clock.now)
        clock.now += RECORD_S
        return []

    monkeypatch.setenv("FANOUT_MODE", mode)
    monkeypatch.setattr(stream_fanout, "post_to_all", post)
    monkeypatch.setattr(stream_fanout, "subscribers_of", lambda flight: ["a"])
    monkeypatch.setattr(stream_fanout, "connection_ids", lambda: ["a"])
    monkeypatch.setattr(stream_fanout, "client_payload", lambda image, name: {})
    monkeypatch.setattr(stream_fanout, "_now", clock.monotonic)
    answer = stream_fanout.handler({"Records": [_record(n) for n in range(5)]}, clock)
    assert clock.left_at_start == [BUDGET_S]  # 0.6 s left after one is under twice 0.4 s
    failed = [f["itemIdentifier"] for f in answer["batchItemFailures"]]
    assert failed == ["1", "2", "3", "4"]  # handed to the next invocation, in order
