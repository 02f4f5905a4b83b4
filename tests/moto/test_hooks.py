"""The moto patches: each does its job, and ``remove()`` puts moto back as it was.

AWS behaviours checked here: PutEvents fails bad entries one by one
(https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEvents.html), a rule
delivers only the events its pattern matches
(https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html) in the
shape of a real event
(https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-events-structure.html), and a
stream shard's records have increasing, unique sequence numbers
(https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_streams_StreamRecord.html),
and a shard iterator expires 15 minutes after it is returned
(https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_streams_GetShardIterator.html),
while the records themselves stay readable (for 24 hours in AWS:
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Streams.html).
"""

from __future__ import annotations

import json
import pickle
import re
import sys
import threading
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import moto.core.responses as moto_responses
import pytest
from botocore.exceptions import ClientError
from moto.dynamodb.responses import DynamoHandler

from fanoutsim import stack
from fanoutsim.moto.account import MotoAccount
from fanoutsim.moto.hooks import ExpiringIterators, MotoHooks, PickledRecord
from fanoutsim.stages import TRACE_FIELD


@pytest.fixture
def hooks(account: MotoAccount) -> Iterator[MotoHooks]:
    patches = MotoHooks(account)
    yield patches
    patches.remove()


def _entry(detail: dict[str, Any], detail_type: str = "Flight status updated") -> dict[str, Any]:
    return {
        "Source": "flights.events",
        "DetailType": detail_type,
        "Detail": json.dumps(detail),
        "EventBusName": stack.BUS,
    }


def test_put_events_fails_bad_entries_alone_and_reports_the_good(hooks: MotoHooks) -> None:
    accepted: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []

    def admit(entry: dict[str, Any]) -> dict[str, Any]:
        accepted.append(entry)
        return {**entry, "Detail": json.dumps({**json.loads(entry["Detail"]), "seen": True})}

    hooks.validate_put_events(admit)
    hooks.deliver_rule(stack.BUS, stack.RULE, events.append)
    entries = [
        _entry({"flightId": "A"}),
        {**_entry({}), "Detail": "[1]"},  # parses, but not an object: AWS fails it
        {**_entry({}), "Source": "aws.flights"},  # reserved source
        _entry({"flightId": "B"}),
    ]
    answer = boto3.client("events").put_events(Entries=entries)
    codes = [e.get("ErrorCode") for e in answer["Entries"]]
    assert codes == [None, "MalformedDetail", "NotAuthorizedForSourceException", None]
    assert answer["FailedEntryCount"] == 2
    assert [json.loads(e["Detail"])["flightId"] for e in accepted] == ["A", "B"]
    assert [e["detail"]["flightId"] for e in events] == ["A", "B"]
    assert all(e["detail"]["seen"] for e in events)  # moto delivers what admit returned


def test_a_request_over_the_size_limit_fails_whole(hooks: MotoHooks) -> None:
    hooks.validate_put_events(lambda entry: entry)
    hooks.deliver_rule(stack.BUS, stack.RULE, lambda event: None)
    half = _entry({"flightId": "A", "pad": "x" * (600 * 1024)})  # each alone is fine
    client = boto3.client("events")
    assert client.put_events(Entries=[half])["FailedEntryCount"] == 0
    with pytest.raises(ClientError) as refused:
        client.put_events(Entries=[half, half])
    assert refused.value.response["Error"]["Code"] == "ValidationException"


def test_more_than_ten_entries_fail_whole_with_aws_s_message(hooks: MotoHooks) -> None:
    hooks.validate_put_events(lambda entry: entry)
    with pytest.raises(ClientError) as refused:
        boto3.client("events").put_events(Entries=[_entry({"flightId": "A"})] * 11)
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert "length between 1 and 10 (got 11)" in refused.value.response["Error"]["Message"]


def test_the_rule_delivers_matches_only_in_aws_envelope(hooks: MotoHooks) -> None:
    events: list[dict[str, Any]] = []
    hooks.deliver_rule(stack.BUS, stack.RULE, events.append)
    client = boto3.client("events")
    client.put_events(Entries=[_entry({"flightId": "A"}), _entry({}, "Something else")])
    [event] = events
    assert event["detail-type"] == "Flight status updated"
    assert event["time"].endswith("Z") and "T" in event["time"]  # ISO 8601, as AWS sends
    assert "ingestion-time" not in event


def test_the_delivered_event_has_the_shape_of_a_real_one(hooks: MotoHooks) -> None:
    """Against an event captured from EventBridge (tests/events/eventbridge_event.json):
    the same fields with the same types, the detail as sent."""
    real = json.loads((Path(__file__).parents[1] / "events" / "eventbridge_event.json").read_text())
    events: list[dict[str, Any]] = []
    hooks.deliver_rule(stack.BUS, stack.RULE, events.append)
    sent = {"flightId": "A", "event": "BOARDING"}
    boto3.client("events").put_events(Entries=[_entry(sent)])
    [event] = events
    assert {k: type(v) for k, v in event.items()} == {k: type(v) for k, v in real.items()}
    assert event["version"] == real["version"] == "0"
    assert event["detail"] == sent and event["source"] == "flights.events"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", event["time"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", real["time"])


def test_remove_puts_every_patched_attribute_back(account: MotoAccount) -> None:
    backend = account.events_backend()
    rule = backend.describe_rule(stack.RULE, stack.BUS)
    shard = account.table(stack.FLIGHTS_TABLE).stream_shard
    before = (backend.put_events, rule.send_to_targets, shard.add)
    put_rule = backend.put_rule
    handle = DynamoHandler.call_action
    hooks = MotoHooks(account)
    hooks.validate_put_events(lambda entry: None)
    hooks.deliver_rule(stack.BUS, stack.RULE, lambda event: None)
    hooks.watch_stream(stack.FLIGHTS_TABLE, lambda traces, at: None)
    iterators = account.streams_backend().shard_iterators
    hooks.expire_shard_iterators()
    hooks.pickle_stream_records(stack.FLIGHTS_TABLE)
    hooks.validate_rules()
    listing = vars(moto_responses)["method_names_from_class"]
    hooks.cache_action_names()
    assert hooks.installed == 6 + 4 + 1 + 1  # put_events, rule, add, iterators, records,
    # put_rule, 4 writes, DynamoDB's request handler, and the action-name listing
    assert vars(moto_responses)["method_names_from_class"] is not listing
    assert DynamoHandler.call_action is not handle
    assert (backend.put_events, rule.send_to_targets, shard.add) != before
    assert isinstance(account.streams_backend().shard_iterators, ExpiringIterators)
    hooks.remove()
    hooks.remove()  # idempotent
    assert hooks.installed == 0
    assert (backend.put_events, rule.send_to_targets, shard.add) == before
    assert backend.put_rule == put_rule
    assert not {"put_events", "send_to_targets", "add"} & (
        set(vars(backend)) | set(vars(rule)) | set(vars(shard))
    )
    assert "put_item" not in vars(account.dynamodb_backend())
    assert DynamoHandler.call_action is handle
    assert vars(moto_responses)["method_names_from_class"] is listing
    assert account.streams_backend().shard_iterators is iterators
    assert type(shard.items) is list  # moto's own list again


def _trim_horizon(arn: str) -> str:
    """A shard iterator at the oldest record of the table's one shard."""
    streams = boto3.client("dynamodbstreams")
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]
    iterator: str = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    return iterator


def _read_all(arn: str) -> list[dict[str, Any]]:
    streams = boto3.client("dynamodbstreams")
    records: list[dict[str, Any]] = streams.get_records(ShardIterator=_trim_horizon(arn))["Records"]
    return records


def test_pickled_stream_records_read_back_as_moto_wrote_them(hooks: MotoHooks) -> None:
    """Records written before and after the patch, and after its removal, all read back
    whole from TRIM_HORIZON, with increasing sequence numbers (24-hour retention: every
    record the simulator wrote is still there)."""
    table = boto3.resource("dynamodb").Table(stack.FLIGHTS_TABLE)
    table.put_item(Item={"flightId": "F0", "gate": "A0"})
    plain = _read_all(table.latest_stream_arn)
    hooks.pickle_stream_records(stack.FLIGHTS_TABLE)
    shard = hooks.account.table(stack.FLIGHTS_TABLE).stream_shard
    for n in (1, 2):
        table.put_item(Item={"flightId": f"F{n}", "gate": f"A{n}", TRACE_FIELD: f"t{n}"})
    assert all(isinstance(r, PickledRecord) for r in shard.items)
    pickled = _read_all(table.latest_stream_arn)
    assert pickled[0] == plain[0]
    assert [r["dynamodb"]["NewImage"]["gate"]["S"] for r in pickled] == ["A0", "A1", "A2"]
    assert pickled[2]["dynamodb"]["NewImage"][TRACE_FIELD] == {"S": "t2"}
    hooks.remove()
    table.put_item(Item={"flightId": "F3"})
    after = _read_all(table.latest_stream_arn)
    assert [r["dynamodb"]["Keys"]["flightId"]["S"] for r in after] == ["F0", "F1", "F2", "F3"]
    numbers = [int(r["dynamodb"]["SequenceNumber"]) for r in after]
    assert numbers == sorted(set(numbers))


def test_a_pickled_record_takes_under_a_quarter_of_the_memory_of_a_parsed_one() -> None:
    image = {k: {"S": f"{k} value {i}"} for i, k in enumerate("abcdefghijklmn")}
    record = {"eventName": "MODIFY", "dynamodb": {"Keys": {"a": image["a"]}, "NewImage": image}}
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        parsed = [pickle.loads(pickle.dumps(record)) for _ in range(100)]
        middle = tracemalloc.get_traced_memory()[0]
        packed = [PickledRecord(record) for _ in range(100)]
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert len(parsed) == len(packed) and packed[0].to_json() == record
    assert (after - middle) < 0.25 * (middle - before)


def test_shard_iterators_are_forgotten_15_minutes_after_they_are_handed_out() -> None:
    now = [0.0]
    iterators = ExpiringIterators({"old": "i0"}, lifetime_s=900, clock=lambda: now[0])
    now[0] = 600
    iterators["a"] = "i1"
    assert set(iterators) == {"old", "a"}
    now[0] = 900
    iterators["b"] = "i2"  # "old" is 900 s old: expired
    assert set(iterators) == {"a", "b"}
    now[0] = 1_600
    iterators["c"] = "i3"
    assert set(iterators) == {"b", "c"}


def test_get_records_still_pages_through_the_stream_with_expiry_on(hooks: MotoHooks) -> None:
    """Each GetRecords hands out a new iterator; the chain still reads every record, and
    once the lifetime has passed the map holds only the newest."""
    now = [0.0]
    hooks.expire_shard_iterators(lifetime_s=900, clock=lambda: now[0])
    table = boto3.resource("dynamodb").Table(stack.FLIGHTS_TABLE)
    streams = boto3.client("dynamodbstreams")
    iterator = _trim_horizon(table.latest_stream_arn)
    seen: list[str] = []
    for n in range(5):
        table.put_item(Item={"flightId": f"F{n}"})
        page = streams.get_records(ShardIterator=iterator, Limit=1)
        seen += [r["dynamodb"]["Keys"]["flightId"]["S"] for r in page["Records"]]
        iterator = page["NextShardIterator"]
    assert seen == [f"F{n}" for n in range(5)]
    now[0] = 901
    assert len(_read_all(table.latest_stream_arn)) == 5  # read records stay in the shard
    assert len(hooks.account.streams_backend().shard_iterators) == 2  # that read's two


def test_an_expired_or_unknown_iterator_gets_streams_own_error(hooks: MotoHooks) -> None:
    """GetRecords with an iterator older than 15 minutes answers ExpiredIteratorException,
    with one never issued ValidationException (moto raised a bare KeyError for both)."""
    now = [0.0]
    hooks.expire_shard_iterators(lifetime_s=900, clock=lambda: now[0])
    table = boto3.resource("dynamodb").Table(stack.FLIGHTS_TABLE)
    streams = boto3.client("dynamodbstreams")
    iterator = _trim_horizon(table.latest_stream_arn)
    now[0] = 900.5
    with pytest.raises(ClientError) as expired:
        streams.get_records(ShardIterator=iterator)
    assert expired.value.response["Error"]["Code"] == "ExpiredIteratorException"
    with pytest.raises(ClientError) as unknown:
        streams.get_records(ShardIterator=iterator.replace("0", "1", 1) + "x")
    assert unknown.value.response["Error"]["Code"] == "ValidationException"


def test_concurrent_writers_get_unique_sequence_numbers(hooks: MotoHooks) -> None:
    """moto numbers a record before appending it; without the hook's lock two writers can
    share a number, and a reader then loops on one record (the old intermittent hang)."""
    committed: list[tuple[str, ...]] = []
    hooks.watch_stream(stack.FLIGHTS_TABLE, lambda traces, at: committed.append(traces))
    table = boto3.resource("dynamodb").Table(stack.FLIGHTS_TABLE)
    writers, writes = 8, 25
    old_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    try:

        def write(worker: int) -> None:
            for i in range(writes):
                table.put_item(Item={"flightId": f"F{worker}-{i}", TRACE_FIELD: f"t{worker}-{i}"})

        threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(old_interval)
    shard = hooks.account.table(stack.FLIGHTS_TABLE).stream_shard
    numbers = [int(r.to_json()["dynamodb"]["SequenceNumber"]) for r in shard.items]
    assert len(numbers) == writers * writes
    assert len(set(numbers)) == len(numbers)
    assert sorted(committed) == sorted(
        (f"t{w}-{i}",) for w in range(writers) for i in range(writes)
    )


def test_put_rule_refuses_a_pattern_eventbridge_refuses(hooks: MotoHooks) -> None:
    """moto stores any pattern (and then matches an unknown operator as true); EventBridge
    answers InvalidEventPatternException, from any caller."""
    hooks.validate_rules()
    events = boto3.client("events")
    with pytest.raises(ClientError) as refused:
        events.put_rule(
            Name="bad",
            EventBusName=stack.BUS,
            EventPattern=json.dumps({"detail": {"x": [{"no-such-operator": 1}]}}),
        )
    assert refused.value.response["Error"]["Code"] == "InvalidEventPatternException"
    good = {"source": ["flights.events"], "detail": {"x": [{"prefix": "F"}]}}
    events.put_rule(Name="good", EventBusName=stack.BUS, EventPattern=json.dumps(good))


def test_a_scan_beside_updates_that_add_attributes_reads_whole_items(hooks: MotoHooks) -> None:
    """moto copies and serialises items after its backend call returns; unless the whole
    request is one step, a Scan beside an update that adds an attribute fails with
    "dictionary changed size during iteration" (a GET /flights did, under load)."""
    hooks.watch_stream(stack.FLIGHTS_TABLE, lambda traces, at: None)
    client = boto3.client("dynamodb")
    client.put_item(TableName=stack.FLIGHTS_TABLE, Item={"flightId": {"S": "F1"}})
    done = threading.Event()

    def update() -> None:
        writer = boto3.client("dynamodb")
        n = 0
        while not done.is_set():
            names = [f"a{(n + i) % 40}" for i in range(3)]
            writer.update_item(
                TableName=stack.FLIGHTS_TABLE,
                Key={"flightId": {"S": "F1"}},
                UpdateExpression="SET " + ", ".join(f"{a} = :v" for a in names) + " REMOVE b",
                ExpressionAttributeValues={":v": {"S": "x"}},
            )
            n += 1

    old_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    writers = [threading.Thread(target=update) for _ in range(2)]
    try:
        for thread in writers:
            thread.start()
        scans = [client.scan(TableName=stack.FLIGHTS_TABLE)["Count"] for _ in range(200)]
    finally:
        done.set()
        for thread in writers:
            thread.join()
        sys.setswitchinterval(old_interval)
    assert scans == [1] * 200
