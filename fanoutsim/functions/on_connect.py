"""``$connect``: remember the new connection so the fan-out can reach it.

Environment: ``CONNECTIONS_TABLE``, ``SUBSCRIPTIONS_TABLE``; optional
``CONNECTION_TTL_SECONDS`` (default 7200, API Gateway's maximum connection duration) sets
the items' TTL attribute so rows of connections whose ``$disconnect`` never ran (it is best
effort) expire. Optional ``CONNECT_TOKEN``: when set, a client must pass ``?token=<it>`` or
is refused with 401 (the seed leaves the socket open to all; authorizing on ``$connect`` is
enough, as the connection is stateful). ``?flightId=A&flightId=B`` subscribes the
connection to those flights (per-flight fan-out); a bad flight id is refused with 400.
"""

from __future__ import annotations

import os
from typing import Any

from fanoutsim.errors import ValidationError
from fanoutsim.functions import subscriptions
from fanoutsim.functions.aws_clients import table

__all__ = ["handler"]


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    ctx = event["requestContext"]
    token = os.environ.get("CONNECT_TOKEN")
    if token and (event.get("queryStringParameters") or {}).get("token") != token:
        return {"statusCode": 401, "body": "Unauthorized"}
    try:
        flights = subscriptions.flight_ids(
            (event.get("multiValueQueryStringParameters") or {}).get("flightId", [])
        )
    except ValidationError as error:
        return {"statusCode": 400, "body": str(error)}
    connected_at = int(ctx["connectedAt"])
    ttl = subscriptions.connection_ttl(connected_at)
    item: dict[str, Any] = {
        "connectionId": ctx["connectionId"],
        "connectedAt": connected_at,
        "ttl": ttl,
    }
    if flights:
        item["flights"] = set(flights)
    table("CONNECTIONS_TABLE").put_item(Item=item)
    if flights:
        subscriptions.put_items(ctx["connectionId"], flights, ttl)
    return {"statusCode": 200}
