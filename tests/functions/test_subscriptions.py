"""Per-flight subscriptions against moto: validation, the per-connection bound, the items
written and deleted, a paginated Query, and the handlers that use them.

AWS pages this module checks:

- https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Query.Pagination.html
- https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.ReadConsistency.html
- https://docs.aws.amazon.com/apigateway/latest/developerguide/websocket-api-develop-routes.html
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from fanoutsim import provision, stack
from fanoutsim.aws import apigw
from fanoutsim.errors import ValidationError
from fanoutsim.functions import on_connect, on_disconnect, on_subscribe, subscriptions

SOURCE = apigw.EventSource("c1=", 1_700_000_000_000, "a", "prod", "d", "1.2.3.4", "ua")


def _subscriptions(dynamodb: Any) -> set[tuple[str, str]]:
    items = provision.scan_all(dynamodb, stack.SUBSCRIPTIONS_TABLE)
    return {(i["flightId"], i["connectionId"]) for i in items}


def _connect(query: dict[str, list[str]] | None = None, source: Any = SOURCE) -> Any:
    return on_connect.handler(
        apigw.connect_event(source, headers={}, query=query, request_id="r"), None
    )


def _message(action: str, body: Any) -> dict[str, Any]:
    event = apigw.message_event(
        SOURCE, json.dumps(body), action, now_ms=1, request_id="r", message_id="m"
    )
    return json.loads(on_subscribe.handler(event, None)["body"])


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ("FS101", "list of strings"),
        ([1], "list of strings"),
        ([""], "not a flight id"),
        (["FS 101"], "not a flight id"),
        (["x" * 65], "not a flight id"),
        ([f"F{i}" for i in range(21)], "at most 20"),
    ],
)
def test_bad_flight_ids_are_refused(values: Any, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        subscriptions.flight_ids(values)


def test_flight_ids_keep_order_and_drop_repeats() -> None:
    assert subscriptions.flight_ids(["B", "A", "B"]) == ("B", "A")


def test_connect_with_flight_ids_writes_one_item_per_subscription(aws_tables: Any) -> None:
    assert _connect({"flightId": ["FS1", "FS2"], "client": ["x"]}) == {"statusCode": 200}
    assert _subscriptions(aws_tables) == {("FS1", "c1="), ("FS2", "c1=")}
    [row] = provision.scan_all(aws_tables, stack.CONNECTIONS_TABLE)
    assert row["flights"] == {"FS1", "FS2"}
    ttl = {i["ttl"] for i in provision.scan_all(aws_tables, stack.SUBSCRIPTIONS_TABLE)}
    assert ttl == {row["ttl"]}  # they expire together


def test_connect_with_a_bad_flight_id_is_refused_with_400_and_writes_nothing(
    aws_tables: Any,
) -> None:
    answer = _connect({"flightId": ["no spaces please"]})
    assert answer["statusCode"] == 400 and "not a flight id" in answer["body"]
    assert provision.scan_all(aws_tables, stack.CONNECTIONS_TABLE) == []


def test_subscribe_and_unsubscribe_by_message(aws_tables: Any) -> None:
    _connect({"flightId": ["FS1"]})
    assert _message("subscribe", {"action": "subscribe", "flightIds": ["FS2", "FS3"]}) == {
        "subscribed": ["FS1", "FS2", "FS3"]
    }
    assert _message("unsubscribe", {"action": "unsubscribe", "flightIds": ["FS1"]}) == {
        "subscribed": ["FS2", "FS3"]
    }
    assert _subscriptions(aws_tables) == {("FS2", "c1="), ("FS3", "c1=")}
    bad = _message("subscribe", {"action": "subscribe", "flightIds": "FS4"})
    assert bad == {"error": "flightIds must be a list of strings", "action": "subscribe"}


def test_subscriptions_past_the_bound_are_refused_and_nothing_is_written(aws_tables: Any) -> None:
    _connect({"flightId": [f"F{i}" for i in range(15)]})
    answer = _message(
        "subscribe", {"action": "subscribe", "flightIds": [f"G{i}" for i in range(6)]}
    )
    assert "at most 20" in answer["error"]
    assert len(_subscriptions(aws_tables)) == 15


def test_disconnect_deletes_the_row_and_every_subscription(aws_tables: Any) -> None:
    _connect({"flightId": ["FS1", "FS2"]})
    other = apigw.EventSource("c2=", 1_700_000_000_000, "a", "prod", "d", "1.2.3.4", "ua")
    _connect({"flightId": ["FS1"]}, other)
    bye = apigw.disconnect_event(SOURCE, status_code=1000, reason="", now_ms=1, request_id="r")
    on_disconnect.handler(bye, None)
    assert _subscriptions(aws_tables) == {("FS1", "c2=")}
    assert [r["connectionId"] for r in provision.scan_all(aws_tables, stack.CONNECTIONS_TABLE)] == [
        "c2="
    ]


def test_subscribers_of_follows_query_pages(
    aws_tables: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(30):
        aws_tables.put_item(
            TableName=stack.SUBSCRIPTIONS_TABLE,
            Item={"flightId": {"S": "FS1"}, "connectionId": {"S": f"id{i:03d}="}},
        )
    table = subscriptions.table("SUBSCRIPTIONS_TABLE")
    original, pages = table.query, []

    def small_pages(**kwargs: Any) -> Any:
        pages.append(kwargs)
        assert kwargs["ConsistentRead"] is True
        return original(Limit=7, **kwargs)

    monkeypatch.setattr(table, "query", small_pages)
    assert len(subscriptions.subscribers_of("FS1")) == 30
    assert len(pages) == 5  # 7 + 7 + 7 + 7 + 2, each page after the first from its key
    assert subscriptions.subscribers_of("FS2") == []
