"""``$connect``: remember the new connection so the fan-out can reach it.

Environment: ``CONNECTIONS_TABLE``; optional ``CONNECTION_TTL_SECONDS`` (default 7200, API
Gateway's maximum connection duration) sets the item's TTL attribute so rows of connections
whose ``$disconnect`` never ran (it is best effort) expire.
"""

from __future__ import annotations

import os
from typing import Any

from fanoutsim.functions.clients import table


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    ctx = event["requestContext"]
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
