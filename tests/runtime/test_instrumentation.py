"""The metering hooks count the pipeline's own AWS calls (inside an invocation or from the
producer), take DynamoDB capacity from the sizes port, and leave other calls alone.

AWS: DynamoDB on-demand bills a write request unit per 1 KB written and a read request
unit per 4 KB read, https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import boto3
import pytest

from fanoutsim import stack
from fanoutsim.aws.metering import Meter
from fanoutsim.moto.account import MotoAccount
from fanoutsim.moto.capacity import MotoCapacity
from fanoutsim.runtime.delays import Delays
from fanoutsim.runtime.function_runtime import Invocation, current_invocation
from fanoutsim.runtime.instrumentation import Instrumentation, producer_call
from fanoutsim.timing.profiles import load_profile


class Sizes:
    """Every write touched 3 KB, every Scan read 10 KB."""

    def write_bytes(self, operation: str, params: Mapping[str, Any]) -> int | None:
        return 3 * 1024 if operation in ("PutItem", "UpdateItem", "DeleteItem") else None

    def read_bytes(self, operation: str, parsed: Mapping[str, Any], table_name: str) -> int | None:
        return 10 * 1024 if operation == "Scan" else None


@pytest.fixture
def meter(account: MotoAccount) -> Iterator[Meter]:
    meter = Meter()
    hooks = Instrumentation(meter, Sizes(), Delays(load_profile("instant")))
    hooks.install()
    try:
        yield meter
    finally:
        hooks.uninstall()


def _inside_an_invocation() -> Any:
    return current_invocation.set(Invocation("f", "req", {}, cold=False, started=0.0))


def test_calls_inside_an_invocation_are_counted_with_their_capacity(meter: Meter) -> None:
    table = boto3.resource("dynamodb").Table(stack.CONNECTIONS_TABLE)
    token = _inside_an_invocation()
    try:
        table.put_item(Item={"connectionId": "a"})
        table.scan()
    finally:
        current_invocation.reset(token)
    use = meter.snapshot(0)
    assert use["operations"] == {"dynamodb:PutItem": 1, "dynamodb:Scan": 1}
    # 3 KB written -> 3 units; 10 KB read -> 3 x 4 KB, halved for an eventually consistent Scan
    assert use["dynamodb"] == {"write_units": 3, "read_units": 1.5}


def test_the_producer_is_metered_and_a_notebook_reading_tables_is_not(meter: Meter) -> None:
    boto3.client("dynamodb").scan(TableName=stack.FLIGHTS_TABLE)  # a reader: not billed
    token = producer_call.set(True)
    try:
        entry = {"Source": "s", "DetailType": "d", "Detail": "{}", "EventBusName": stack.BUS}
        boto3.client("events").put_events(Entries=[entry])
    finally:
        producer_call.reset(token)
    assert meter.snapshot(0)["operations"] == {"events:PutEvents": 1}


def test_moto_capacity_reads_the_stored_item_size(account: MotoAccount) -> None:
    table = boto3.resource("dynamodb").Table(stack.CONNECTIONS_TABLE)
    table.put_item(Item={"connectionId": "abc", "blob": "x" * 2000})
    sizes = MotoCapacity(account)
    params = {"TableName": stack.CONNECTIONS_TABLE, "Item": {"connectionId": {"S": "abc"}}}
    written = sizes.write_bytes("PutItem", params)
    assert written is not None and 2000 < written < 2100  # names + values, as DynamoDB counts
    assert sizes.write_bytes("GetItem", params) is None
    read = sizes.read_bytes("Scan", {"ScannedCount": 1}, stack.CONNECTIONS_TABLE)
    assert read == written
