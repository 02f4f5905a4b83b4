"""EventBridge target: write flight events into the flights view model.

``New flight scheduled`` puts the flight if it is new (a duplicate is reported, never
overwritten); ``Flight status updated`` changes status, details and ``updatedAt`` (from the
event's ``time``, as the seed does) of an existing flight. A bad detail raises
:class:`~fanoutsim.errors.InvalidFlightEvent`, so the invocation fails visibly (Lambda
retries async events, then drops or dead-letters them). Unlike the seed, an update for an
unknown flight is refused rather than creating a partial item.

Environment: ``FLIGHTS_TABLE``.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from fanoutsim.errors import InvalidFlightEvent
from fanoutsim.functions import flight_model
from fanoutsim.functions.aws_clients import table

__all__ = ["handler", "schedule", "update_status"]


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _conditional_failed(error: ClientError) -> bool:
    return bool(error.response["Error"]["Code"] == "ConditionalCheckFailedException")


def schedule(detail: dict[str, Any]) -> dict[str, Any]:
    item = flight_model.new_flight_item(detail, _now_iso(), int(time.time()))
    try:
        table("FLIGHTS_TABLE").put_item(
            Item=item, ConditionExpression="attribute_not_exists(flightId)"
        )
    except ClientError as error:
        if _conditional_failed(error):
            return {"result": "duplicate", "flightId": item["flightId"]}
        raise
    return {"result": "created", "flightId": item["flightId"]}


def update_status(detail: dict[str, Any], event_time: str | None = None) -> dict[str, Any]:
    """Set status, details and ``updatedAt`` (the event's ``time``, as the seed does; the
    handler's clock if the event has none)."""
    flight_id, status, details, trace = flight_model.status_update(detail)
    names = {"#e": "event"}
    values: dict[str, Any] = {":e": status, ":d": details, ":u": event_time or _now_iso()}
    expression = "SET #e = :e, eventDetails = :d, updatedAt = :u"
    if trace is not None:
        expression += ", traceId = :t"
        values[":t"] = trace
    else:
        expression += " REMOVE traceId"
    try:
        table("FLIGHTS_TABLE").update_item(
            Key={"flightId": flight_id},
            UpdateExpression=expression,
            ConditionExpression="attribute_exists(flightId)",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )
    except ClientError as error:
        if _conditional_failed(error):
            raise InvalidFlightEvent(f"status update for unknown flight {flight_id!r}") from error
        raise
    return {"result": "updated", "flightId": flight_id, "event": status}


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    detail_type = event.get("detail-type")
    detail = event.get("detail")
    if not isinstance(detail, dict):
        raise InvalidFlightEvent("flight event detail must be a JSON object")
    if detail_type == flight_model.NEW_FLIGHT:
        return schedule(detail)
    if detail_type == flight_model.STATUS_UPDATED:
        when = event.get("time")
        return update_status(detail, when if isinstance(when, str) else None)
    raise InvalidFlightEvent(f"unexpected detail-type {detail_type!r}")
