"""The stream handler stops taking records before its timeout and hands the rest to the
next invocation, so a batch too big for one invocation is delivered once, not cut off and
posted again on every retry.

Sources:
https://docs.aws.amazon.com/lambda/latest/dg/python-context.html
(``get_remaining_time_in_millis``) and
https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-batchfailurereporting.html
(the mapping retries from the first record reported failed).
"""

from __future__ import annotations

import dataclasses

from fanoutsim import Simulator, stack
from fanoutsim.timing.distributions import from_spec
from fanoutsim.timing.profiles import load_profile


def test_a_batch_bigger_than_the_timeout_is_split_by_time_and_delivered_once() -> None:
    slow_posts = from_spec({"kind": "fixed", "value": 100, "source": "test"}, "test")
    profile = load_profile("instant").with_delay("post_to_connection", slow_posts)
    # each split hands the rest back as a partial failure, which uses one retry attempt:
    # on a busy machine a record can take half the timeout, so allow a retry per record
    mapping = dataclasses.replace(stack.DEFAULT_MAPPING, maximum_retry_attempts=10)
    with Simulator(
        profile=profile, mapping=mapping, timeouts={"stream_fanout": 1}, post_concurrency=1
    ) as sim:
        clients = sim.clients.add(4)  # 4 posts of 100 ms: 0.4 s a record, 2.4 s for six
        sim.flights.load()
        fanouts = [i for i in sim.invocations() if i.function == "stream_fanout"]
        assert not any(i.timed_out for i in fanouts)
        assert any("time budget" in "".join(i.logs) for i in fanouts)  # it stopped early
        report = sim.report().to_dict()["deliveries"]
        assert report["duplicates"] == 0 and report["undelivered"] == 0
        assert all(len(c.board) == 6 for c in clients)
