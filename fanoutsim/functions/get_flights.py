"""``GET /flights``: every flight in the view model, for a frontend's first render."""

from __future__ import annotations

import json
from typing import Any

from fanoutsim.functions.aws_clients import scan_items, table
from fanoutsim.functions.flight_model import client_payload

__all__ = ["all_flights", "handler"]


def all_flights() -> list[dict[str, Any]]:
    """Every flight of the view model (all Scan pages)."""
    return scan_items(table("FLIGHTS_TABLE"))


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    body = [client_payload(item, "INSERT") for item in all_flights()]
    for flight in body:
        flight.pop("operation")
    body.sort(key=lambda f: str(f["flightId"]))
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json", "Access-Control-Allow-Origin": "*"},
        "body": json.dumps(body),
    }
