"""``$disconnect``: forget the connection and its subscriptions (the seed wired this route
to the connect handler)."""

from __future__ import annotations

from typing import Any

from fanoutsim.functions.subscriptions import forget_connection

__all__ = ["handler"]


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    forget_connection(event["requestContext"]["connectionId"])
    return {"statusCode": 200}
