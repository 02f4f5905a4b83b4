"""``subscribe`` / ``unsubscribe`` routes: follow or drop flights by message.

``{"action": "subscribe", "flightIds": ["FS101"]}`` answers ``{"subscribed": [...]}`` with
every flight the connection now follows; ``unsubscribe`` likewise. Bad input is answered
with ``{"error": ...}`` and changes nothing. The subscriptions only narrow what a client
hears when the stack runs the per-flight fan-out (``FANOUT_MODE=per-flight``).
"""

from __future__ import annotations

import json
from typing import Any

from fanoutsim.errors import ValidationError
from fanoutsim.functions import subscriptions

__all__ = ["handler"]


def _reply(body: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": 200, "body": json.dumps(body)}


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    ctx = event["requestContext"]
    try:
        message = json.loads(event.get("body") or "")
        if not isinstance(message, dict):
            raise ValidationError("the message must be a JSON object")
        flights = subscriptions.flight_ids(message.get("flightIds"))
        if ctx["routeKey"] == "subscribe":
            ttl = subscriptions.connection_ttl(int(ctx["connectedAt"]))
            now = subscriptions.add(ctx["connectionId"], flights, ttl)
        else:
            now = subscriptions.remove(ctx["connectionId"], flights)
    except (ValueError, ValidationError) as error:
        return _reply({"error": str(error), "action": ctx["routeKey"]})
    return _reply({"subscribed": sorted(now)})
