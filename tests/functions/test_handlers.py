"""The handlers against moto, fed the events AWS would send them.

AWS pages this module checks:

- https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.ConditionExpressions.html
- https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Scan.html
- https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/TTL.html
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from boto3.dynamodb.types import TypeSerializer

from fanoutsim import provision, stack
from fanoutsim.aws import apigw
from fanoutsim.errors import InvalidFlightEvent
from fanoutsim.functions import (
    flight_events,
    get_flights,
    on_connect,
    on_default,
    on_disconnect,
    stream_fanout,
)
from fanoutsim.functions.flight_model import NEW_FLIGHT, STATUS_UPDATED
from tests.functions.flights import FLIGHT

COMMON = {
    "api_id": "a",
    "stage": "prod",
    "domain_name": "d",
    "source_ip": "1.2.3.4",
    "user_agent": "ua",
}


def _items(dynamodb: Any, table: str) -> list[dict[str, Any]]:
    return provision.scan_all(dynamodb, table)


def test_connect_then_disconnect_adds_and_removes_the_row(aws_tables: Any) -> None:
    cid = apigw.new_connection_id()
    source = apigw.EventSource(cid, 1_700_000_000_000, **COMMON)
    event = apigw.connect_event(source, headers={}, query=None, request_id="r")
    assert on_connect.handler(event, None) == {"statusCode": 200}
    [row] = _items(aws_tables, stack.CONNECTIONS_TABLE)
    assert row["connectionId"] == cid
    assert row["ttl"] == 1_700_000_000 + 7200
    bye = apigw.disconnect_event(source, status_code=1000, reason="", now_ms=1, request_id="r")
    on_disconnect.handler(bye, None)
    assert _items(aws_tables, stack.CONNECTIONS_TABLE) == []


def _bus_event(detail_type: str, detail: dict[str, Any]) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "e",
        "detail-type": detail_type,
        "source": "flights.events",
        "account": stack.ACCOUNT,
        "time": "2026-01-01T00:00:00Z",
        "region": stack.REGION,
        "resources": [],
        "detail": detail,
    }


def test_new_flight_is_created_once_and_a_duplicate_is_reported(aws_tables: Any) -> None:
    assert flight_events.handler(_bus_event(NEW_FLIGHT, FLIGHT), None)["result"] == "created"
    changed = {**FLIGHT, "gate": "Z9"}
    assert flight_events.handler(_bus_event(NEW_FLIGHT, changed), None)["result"] == "duplicate"
    [item] = _items(aws_tables, stack.FLIGHTS_TABLE)
    assert item["gate"] == "A1"


def test_status_update_changes_status_details_and_takes_updated_at_from_the_event(
    aws_tables: Any,
) -> None:
    flight_events.handler(_bus_event(NEW_FLIGHT, FLIGHT), None)
    before = _items(aws_tables, stack.FLIGHTS_TABLE)[0]
    update = {"flightId": "FS1", "event": "BOARDING", "eventDetails": "Group 1"}
    flight_events.handler(
        {**_bus_event(STATUS_UPDATED, update), "time": "2026-03-04T05:06:07Z"}, None
    )
    [item] = _items(aws_tables, stack.FLIGHTS_TABLE)
    assert (item["event"], item["eventDetails"]) == ("BOARDING", "Group 1")
    assert item["updatedAt"] == "2026-03-04T05:06:07Z"  # the event's time, as the seed does
    assert item["createdAt"] == before["createdAt"]
    assert item["type"] == "FlightStatus" and item["terminal"] == 1


def _status(status: str, version: int | None = None, time: str = "") -> dict[str, Any]:
    detail: dict[str, Any] = {"flightId": "FS1", "event": status}
    if version is not None:
        detail["version"] = version
    return {**_bus_event(STATUS_UPDATED, detail), **({"time": time} if time else {})}


def test_an_older_status_arriving_late_changes_nothing(aws_tables: Any) -> None:
    """EventBridge does not order events and each runs in its own invocation: the board
    must end on the status published last, whatever order the writes come in."""
    flight_events.handler(_bus_event(NEW_FLIGHT, FLIGHT), None)
    assert flight_events.handler(_status("TOOK_OFF", 3), None)["result"] == "updated"
    assert flight_events.handler(_status("BOARDING", 1), None)["result"] == "stale"
    assert flight_events.handler(_status("DEPARTURE_DELAYED", 2), None)["result"] == "stale"
    [item] = _items(aws_tables, stack.FLIGHTS_TABLE)
    assert item["event"] == "TOOK_OFF"
    # without a version the event's time orders them (to the second, as EventBridge stamps)
    assert (
        flight_events.handler(_status("LANDED", time="2099-01-01T00:00:00Z"), None)["result"]
        == "updated"
    )
    assert (
        flight_events.handler(_status("BOARDING", time="2026-01-01T00:00:00Z"), None)["result"]
        == "stale"
    )
    assert _items(aws_tables, stack.FLIGHTS_TABLE)[0]["event"] == "LANDED"


def test_the_seeds_unordered_writes_let_a_late_status_win(
    aws_tables: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEED_BUGS", "unordered-status-writes")
    flight_events.handler(_bus_event(NEW_FLIGHT, FLIGHT), None)
    flight_events.handler(_status("TOOK_OFF", 3), None)
    assert flight_events.handler(_status("BOARDING", 1), None)["result"] == "updated"
    assert _items(aws_tables, stack.FLIGHTS_TABLE)[0]["event"] == "BOARDING"


@pytest.mark.parametrize(
    ("detail_type", "detail", "message"),
    [
        (STATUS_UPDATED, {"flightId": "NOPE", "event": "BOARDING"}, "unknown flight"),
        (STATUS_UPDATED, {"flightId": "FS1", "event": "WARP"}, "unknown flight status"),
        (STATUS_UPDATED, {"event": "BOARDING"}, "flightId"),
        ("Something else", {"flightId": "FS1"}, "unexpected detail-type"),
    ],
)
def test_bad_flight_events_raise_clear_errors(
    aws_tables: Any, detail_type: str, detail: dict[str, Any], message: str
) -> None:
    flight_events.handler(_bus_event(NEW_FLIGHT, FLIGHT), None)
    with pytest.raises(InvalidFlightEvent, match=message):
        flight_events.handler(_bus_event(detail_type, detail), None)


def test_get_flights_returns_every_flight_sorted(aws_tables: Any) -> None:
    for fid in ("FS2", "FS1"):
        flight_events.handler(_bus_event(NEW_FLIGHT, {**FLIGHT, "flightId": fid}), None)
    response = get_flights.handler({}, None)
    assert response["statusCode"] == 200
    assert [f["flightId"] for f in json.loads(response["body"])] == ["FS1", "FS2"]


def test_default_route_answers_with_an_error_body() -> None:
    reply = on_default.handler({"body": "hello"}, None)
    assert json.loads(reply["body"])["receivedBytes"] == 5


def _record(seq: str, image: dict[str, Any], name: str = "MODIFY") -> dict[str, Any]:
    serializer = TypeSerializer()
    return {
        "eventName": name,
        "dynamodb": {
            "SequenceNumber": seq,
            "NewImage": {k: serializer.serialize(v) for k, v in image.items()},
        },
    }


class FakeManagement:
    """Stands in for the management API: records posts, answers 410 for ``gone`` ids."""

    def __init__(self, gone: set[str], fail: bool = False) -> None:
        from botocore.exceptions import ClientError

        self.error = ClientError
        self.gone = gone
        self.fail = fail
        self.posts: list[tuple[str, bytes]] = []

    def post_to_connection(self, ConnectionId: str, Data: bytes) -> None:
        if self.fail:
            raise self.error({"Error": {"Code": "InternalServerErrorException"}}, "Post")
        if ConnectionId in self.gone:
            raise self.error({"Error": {"Code": "GoneException"}}, "PostToConnection")
        self.posts.append((ConnectionId, Data))


def _connect(aws_tables: Any, ids: list[str]) -> None:
    for cid in ids:
        aws_tables.put_item(
            TableName=stack.CONNECTIONS_TABLE,
            Item={"connectionId": {"S": cid}, "connectedAt": {"N": "1"}},
        )


def test_fanout_posts_to_everyone_and_deletes_gone_connections(
    aws_tables: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _connect(aws_tables, ["a=", "b=", "c="])
    api = FakeManagement(gone={"b="})
    monkeypatch.setattr(stream_fanout, "management_api", lambda *_: api)
    image = {**FLIGHT, "event": "BOARDING", "eventDetails": "", "createdAt": "x", "updatedAt": "y"}
    result = stream_fanout.handler({"Records": [_record("1", image), _record("2", image)]}, None)
    assert result == {"batchItemFailures": []}
    assert sorted(c for c, _ in api.posts) == ["a=", "a=", "c=", "c="]
    assert json.loads(api.posts[0][1])["operation"] == "UPDATE"
    assert {i["connectionId"] for i in _items(aws_tables, stack.CONNECTIONS_TABLE)} == {"a=", "c="}


def test_fanout_reports_the_failed_record_and_every_later_one(
    aws_tables: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _connect(aws_tables, ["a="])
    monkeypatch.setattr(
        stream_fanout, "management_api", lambda *_: FakeManagement(set(), fail=True)
    )
    image = {**FLIGHT, "event": "BOARDING"}
    result = stream_fanout.handler({"Records": [_record("7", image), _record("8", image)]}, None)
    assert result == {"batchItemFailures": [{"itemIdentifier": "7"}, {"itemIdentifier": "8"}]}


def _kinesis_record(seq: str, image: dict[str, Any]) -> dict[str, Any]:
    """The same change as the seed's feed carries it: a Kinesis record whose data is
    DynamoDB's change document (https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html)."""
    change = {"eventName": "MODIFY", "dynamodb": _record("0", image)["dynamodb"]}
    data = base64.b64encode(json.dumps(change).encode()).decode()
    return {"eventSource": "aws:kinesis", "kinesis": {"sequenceNumber": seq, "data": data}}


def test_fanout_takes_kinesis_records_and_reports_failures_by_sequence_number(
    aws_tables: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _connect(aws_tables, ["a="])
    api = FakeManagement(set())
    monkeypatch.setattr(stream_fanout, "management_api", lambda *_: api)
    image = {**FLIGHT, "event": "BOARDING"}
    ok = stream_fanout.handler({"Records": [_kinesis_record("4961", image)]}, None)
    assert ok == {"batchItemFailures": []} and len(api.posts) == 1
    api.fail = True
    batch = [_kinesis_record("4962", image), _kinesis_record("4963", image)]
    failed = stream_fanout.handler({"Records": batch}, None)
    assert failed == {"batchItemFailures": [{"itemIdentifier": "4962"}, {"itemIdentifier": "4963"}]}


def test_fanout_scan_follows_pages(aws_tables: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    _connect(aws_tables, [f"id{i:04d}=" for i in range(30)])
    table = stream_fanout.table("CONNECTIONS_TABLE")
    original = table.scan

    def small_pages(**kwargs: Any) -> Any:
        return original(Limit=7, **kwargs)

    monkeypatch.setattr(table, "scan", small_pages)
    assert len(stream_fanout.connection_ids()) == 30
