"""An on-failure destination in the live pipeline: when the stream mapping gives up on a
batch, a record of it lands in the SQS queue named (made in the simulator's account), and
the pipeline goes on.

https://docs.aws.amazon.com/lambda/latest/dg/services-dynamodb-errors.html (the record,
``DDBStreamBatchInfo``), https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import boto3
import pytest

from fanoutsim import stack
from fanoutsim.errors import ConfigError
from fanoutsim.simulator import Simulator

QUEUE = f"arn:aws:sqs:{stack.REGION}:{stack.ACCOUNT}:fanoutsim-stream-failures"


def _failing(event: dict[str, Any], context: Any) -> Any:
    raise RuntimeError("the fan-out is broken")


@pytest.mark.parametrize("stream", ["dynamodb", "kinesis"])
def test_a_discarded_batch_is_recorded_in_the_queue(stream: str) -> None:
    base = stack.KINESIS_MAPPING if stream == "kinesis" else stack.DEFAULT_MAPPING
    mapping = dataclasses.replace(base, maximum_retry_attempts=1, on_failure_destination=QUEUE)
    with Simulator(stream=stream, mapping=mapping) as sim:
        sim.clients.add(1)
        sim.flights.load()
        sim.wait("delivered", timeout=60)
        assert sim.stream.failures() == []
        sim.replace_function("stream_fanout", _failing)
        sim.flights.publish("FS101", "BOARDING", "gate 4")
        sim.wait("idle", timeout=60)
        sqs = boto3.client("sqs", region_name=stack.REGION)
        url = sqs.get_queue_url(QueueName="fanoutsim-stream-failures")["QueueUrl"]
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
        kept = sim.stream.failures()
        discarded = sim.stream.counters()["discarded"]
    bodies = [json.loads(m["Body"]) for m in messages]
    assert bodies == kept and len(bodies) >= 1 and discarded >= 1
    record = bodies[0]
    assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 2  # the first try and 1 retry
    assert record["requestContext"]["functionArn"].endswith(":function:stream_fanout")
    assert record["responseContext"]["functionError"] == "Unhandled"
    info = record["KinesisBatchInfo" if stream == "kinesis" else "DDBStreamBatchInfo"]
    assert info["batchSize"] >= 1 and info["shardId"].startswith("shardId-")
    assert (":kinesis:" if stream == "kinesis" else "/stream/") in info["streamArn"]


def test_a_queue_of_another_account_is_refused() -> None:
    stranger = dataclasses.replace(
        stack.DEFAULT_MAPPING,
        on_failure_destination=f"arn:aws:sqs:{stack.REGION}:999999999999:theirs",
    )
    with pytest.raises(ConfigError, match="not in this simulator's account and region"):
        Simulator(mapping=stranger)
