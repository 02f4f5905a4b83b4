"""``GET /flights``: every flight in the view model, for a frontend's first render."""

from __future__ import annotations

import json
from typing import Any

from fanoutsim.functions.clients import table
from fanoutsim.functions.flight_model import client_payload


def all_flights() -> list[dict[str, Any]]:
    """Scan the flights table page by page (a single Scan stops at 1 MB)."""
    flights = table("FLIGHTS_TABLE")
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {}
    while True:
        page = flights.scan(**kwargs)
        items.extend(page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


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
