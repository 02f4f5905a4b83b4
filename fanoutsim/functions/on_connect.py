"""``$connect``: remember the new connection so the fan-out can reach it.

Environment: ``CONNECTIONS_TABLE``; optional ``CONNECTION_TTL_SECONDS`` (default 7200, API
Gateway's maximum connection duration) sets the item's TTL attribute so rows of connections
whose ``$disconnect`` never ran (it is best effort) expire. Optional ``CONNECT_TOKEN``: when
set, a client must pass ``?token=<it>`` or is refused with 401 (the seed leaves the socket
open to all; authorizing on ``$connect`` is enough, as the connection is stateful).
"""

from __future__ import annotations

import os
from typing import Any

from fanoutsim.functions.aws_clients import table

__all__ = ["handler"]


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    ctx = event["requestContext"]
    token = os.environ.get("CONNECT_TOKEN")
    if token and (event.get("queryStringParameters") or {}).get("token") != token:
        return {"statusCode": 401, "body": "Unauthorized"}
    connected_at = int(ctx["connectedAt"])
    ttl_seconds = int(os.environ.get("CONNECTION_TTL_SECONDS", "7200"))
    table("CONNECTIONS_TABLE").put_item(
        Item={
            "connectionId": ctx["connectionId"],
            "connectedAt": connected_at,
            "ttl": connected_at // 1000 + ttl_seconds,
        }
    )
    return {"statusCode": 200}
