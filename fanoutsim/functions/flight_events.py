"""EventBridge target: write flight events into the flights view model.

``New flight scheduled`` puts the flight if it is new (a duplicate is reported, never
overwritten); ``Flight status updated`` changes status, details and ``updatedAt`` (from the
event's ``time``, as the seed does) of an existing flight. A bad detail raises
:class:`~fanoutsim.errors.InvalidFlightEvent`, so the invocation fails visibly (Lambda
retries async events, then drops or dead-letters them). Unlike the seed, an update for an
unknown flight is refused rather than creating a partial item.

Order: EventBridge guarantees none, and each event runs in its own invocation, so three
statuses published in quick succession can be written in any order. Each write carries its
ordering key (:func:`~fanoutsim.functions.flight_model.status_version`) and is conditional
on no newer one being there: an older status arriving late changes nothing and reports
``stale`` (nothing written, so nothing streamed or sent), and the board ends on the last
status published. ``SEED_BUGS=unordered-status-writes`` writes every status as it comes,
as the seed does.

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
from fanoutsim.functions.seed_bugs import UNORDERED_WRITES, active

__all__ = ["STALE", "handler", "schedule", "update_status"]

#: What an update older than the view model's status reports (nothing written).
STALE = "stale"


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
    version = flight_model.status_version(detail, event_time)
    names = {"#e": "event"}
    values: dict[str, Any] = {
        ":e": status,
        ":d": details,
        ":u": event_time or _now_iso(),
        ":v": version,
    }
    expression = "SET #e = :e, eventDetails = :d, updatedAt = :u, statusVersion = :v"
    if trace is not None:
        expression += ", traceId = :t"
        values[":t"] = trace
    else:
        expression += " REMOVE traceId"
    condition = "attribute_exists(flightId)"
    if UNORDERED_WRITES not in active():
        condition += " AND (attribute_not_exists(statusVersion) OR statusVersion <= :v)"
    try:
        table("FLIGHTS_TABLE").update_item(
            Key={"flightId": flight_id},
            UpdateExpression=expression,
            ConditionExpression=condition,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            # the item as it was, if it was: a newer status (stale) or no flight (unknown)
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as error:
        if not _conditional_failed(error):
            raise
        if error.response.get("Item"):
            return {"result": STALE, "flightId": flight_id, "event": status}
        raise InvalidFlightEvent(f"status update for unknown flight {flight_id!r}") from error
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
