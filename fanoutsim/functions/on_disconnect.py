"""``$disconnect``: forget the connection (the seed wired this route to the connect handler)."""

from __future__ import annotations

from typing import Any

from fanoutsim.functions.aws_clients import table

__all__ = ["handler"]


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    table("CONNECTIONS_TABLE").delete_item(
        Key={"connectionId": event["requestContext"]["connectionId"]}
    )
    return {"statusCode": 200}
