"""Per-flight subscriptions: who follows which flight, as the handlers store and read it.

Data design: a second table, ``SUBSCRIPTIONS_TABLE``, keyed ``flightId`` (hash) and
``connectionId`` (range), one item per subscription. The stream handler finds a flight's
subscribers with a strongly consistent, paginated Query on the base table: a client that
has just been told "subscribed" is never missed (a GSI is only eventually consistent), and
nothing is written twice (a GSI would bill every subscription write again). The connection's
own row keeps the set of flights it follows (``flights``), so ``$disconnect`` and a 410 know
which subscription items to delete; both kinds of item carry the same TTL, so the rows of a
connection whose ``$disconnect`` never ran expire together.

A client subscribes at ``$connect`` (``?flightId=FS101&flightId=FS202``) or by message
(``{"action": "subscribe", "flightIds": [...]}``, ``unsubscribe`` likewise). At most
:data:`MAX_PER_CONNECTION` flights per connection: it bounds the writes one client can cause.

Environment: ``CONNECTIONS_TABLE``, ``SUBSCRIPTIONS_TABLE``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from typing import Any, Final

from boto3.dynamodb.conditions import Key

from fanoutsim.errors import ValidationError
from fanoutsim.functions.aws_clients import all_items, table

__all__ = [
    "MAX_PER_CONNECTION",
    "add",
    "connection_ttl",
    "flight_ids",
    "forget_connection",
    "put_items",
    "remove",
    "subscribers_of",
]

MAX_PER_CONNECTION: Final = 20
_FLIGHT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def connection_ttl(connected_at_ms: int) -> int:
    """The TTL (epoch seconds) of a connection's items: its connect time plus
    ``CONNECTION_TTL_SECONDS`` (default 7200, API Gateway's maximum connection duration)."""
    return connected_at_ms // 1000 + int(os.environ.get("CONNECTION_TTL_SECONDS", "7200"))


def flight_ids(values: Any) -> tuple[str, ...]:
    """Validated flight ids, de-duplicated in order (raises ValidationError)."""
    if not isinstance(values, list | tuple) or not all(isinstance(v, str) for v in values):
        raise ValidationError("flightIds must be a list of strings")
    unique = tuple(dict.fromkeys(values))
    bad = [v for v in unique if not _FLIGHT_ID.fullmatch(v)]
    if bad:
        raise ValidationError(f"not a flight id: {bad[0][:40]!r} (1-64 letters, digits, - or _)")
    if len(unique) > MAX_PER_CONNECTION:
        raise ValidationError(f"at most {MAX_PER_CONNECTION} flights per connection")
    return unique


def add(connection_id: str, flights: Iterable[str], ttl: int) -> set[str]:
    """Subscribe ``connection_id`` to ``flights``; return every flight it now follows.

    Raises ValidationError (nothing written) if that would pass the per-connection limit or
    the connection has no row (it is gone)."""
    wanted = set(flights)
    row = table("CONNECTIONS_TABLE").get_item(
        Key={"connectionId": connection_id}, ConsistentRead=True
    )
    if "Item" not in row:
        raise ValidationError(f"connection {connection_id} is not registered")
    current = set(row["Item"].get("flights", set()))
    if len(current | wanted) > MAX_PER_CONNECTION:
        raise ValidationError(f"at most {MAX_PER_CONNECTION} flights per connection")
    new = wanted - current
    if not new:
        return current
    put_items(connection_id, new, ttl)
    table("CONNECTIONS_TABLE").update_item(
        Key={"connectionId": connection_id},
        UpdateExpression="ADD flights :f",
        ExpressionAttributeValues={":f": new},
    )
    return current | new


def put_items(connection_id: str, flights: Iterable[str], ttl: int) -> None:
    """Write one subscription item per flight (the connection's row names them itself)."""
    with table("SUBSCRIPTIONS_TABLE").batch_writer() as batch:
        for flight in sorted(flights):
            batch.put_item(Item={"flightId": flight, "connectionId": connection_id, "ttl": ttl})


def remove(connection_id: str, flights: Iterable[str]) -> set[str]:
    """Unsubscribe ``connection_id`` from ``flights``; return the flights it still follows."""
    unwanted = set(flights)
    if unwanted:
        table("CONNECTIONS_TABLE").update_item(
            Key={"connectionId": connection_id},
            UpdateExpression="DELETE flights :f",
            ExpressionAttributeValues={":f": unwanted},
        )
        _delete(connection_id, unwanted)
    row = table("CONNECTIONS_TABLE").get_item(
        Key={"connectionId": connection_id}, ConsistentRead=True
    )
    return set(row.get("Item", {}).get("flights", set()))


def _delete(connection_id: str, flights: Iterable[str]) -> None:
    with table("SUBSCRIPTIONS_TABLE").batch_writer() as batch:
        for flight in sorted(flights):
            batch.delete_item(Key={"flightId": flight, "connectionId": connection_id})


def forget_connection(connection_id: str) -> None:
    """Delete the connection's row and every subscription it held (``$disconnect``, 410)."""
    old = table("CONNECTIONS_TABLE").delete_item(
        Key={"connectionId": connection_id}, ReturnValues="ALL_OLD"
    )
    flights = old.get("Attributes", {}).get("flights", set())
    if flights:
        _delete(connection_id, flights)


def subscribers_of(flight_id: str) -> list[str]:
    """The connections following ``flight_id``, across every Query page (strongly
    consistent: a subscription acknowledged before the update is never missed)."""
    items = all_items(
        table("SUBSCRIPTIONS_TABLE").query,
        KeyConditionExpression=Key("flightId").eq(flight_id),
        ProjectionExpression="connectionId",
        ConsistentRead=True,
    )
    return [item["connectionId"] for item in items]
