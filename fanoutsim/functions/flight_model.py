"""The flight view model shared by the handlers: statuses, validation and the client payload.

The shapes follow the seed's producers (``New flight scheduled`` carries the whole flight,
``Flight status updated`` carries ``{flightId, event, eventDetails}``) and its frontend, which
reads ``flightId, origin, dest, airlineCode, flightNum, gate, terminal, event, eventDetails,
createdAt, updatedAt`` plus ``operation`` (``CREATE`` / ``UPDATE``).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Final

from fanoutsim.errors import InvalidFlightEvent
from fanoutsim.stages import TRACE_FIELD

__all__ = [
    "EVENT_BUS",
    "EVENT_SOURCE",
    "FLIGHT_FIELDS",
    "NEW_FLIGHT",
    "PAYLOAD_FIELDS",
    "STATUSES",
    "STATUS_UPDATED",
    "client_payload",
    "new_flight_item",
    "status_update",
]

EVENT_SOURCE: Final = "flights.events"
EVENT_BUS: Final = "flights.events"
NEW_FLIGHT: Final = "New flight scheduled"
STATUS_UPDATED: Final = "Flight status updated"

STATUSES: Final = (
    "SCHEDULED",
    "BOARDING",
    "DEPARTURE_DELAYED",
    "DEPARTED_GATE",
    "TOOK_OFF",
    "LANDED",
    "ARRIVED_AT_GATE",
    "ARRIVAL_DELAYED",
    "GATE_CHANGED",
    "CANCELLED",
)

FLIGHT_FIELDS: Final = (
    "flightId",
    "origin",
    "dest",
    "airlineCode",
    "flightNum",
    "gate",
    "terminal",
)
PAYLOAD_FIELDS: Final = (*FLIGHT_FIELDS, "event", "eventDetails", "createdAt", "updatedAt")


def _require_str(detail: Mapping[str, Any], field: str) -> str:
    value = detail.get(field)
    if not isinstance(value, str) or not value:
        raise InvalidFlightEvent(f"flight event detail needs a non-empty string {field!r}")
    return value


def _require_status(detail: Mapping[str, Any]) -> str:
    status = _require_str(detail, "event")
    if status not in STATUSES:
        raise InvalidFlightEvent(
            f"unknown flight status {status!r}; expected one of {', '.join(STATUSES)}"
        )
    return status


def new_flight_item(detail: Mapping[str, Any], now_iso: str) -> dict[str, Any]:
    """Validate a ``New flight scheduled`` detail and return the table item to put."""
    if not isinstance(detail, Mapping):
        raise InvalidFlightEvent("flight event detail must be a JSON object")
    item: dict[str, Any] = {f: _require_str(detail, f) for f in FLIGHT_FIELDS}
    item["event"] = _require_status(detail) if "event" in detail else "SCHEDULED"
    item["eventDetails"] = str(detail.get("eventDetails", ""))
    item["createdAt"] = now_iso
    item["updatedAt"] = now_iso
    if isinstance(detail.get(TRACE_FIELD), str):
        item[TRACE_FIELD] = detail[TRACE_FIELD]
    return item


def status_update(detail: Mapping[str, Any]) -> tuple[str, str, str, str | None]:
    """Validate a ``Flight status updated`` detail: (flightId, event, eventDetails, traceId)."""
    if not isinstance(detail, Mapping):
        raise InvalidFlightEvent("flight event detail must be a JSON object")
    trace = detail.get(TRACE_FIELD)
    return (
        _require_str(detail, "flightId"),
        _require_status(detail),
        str(detail.get("eventDetails", "")),
        trace if isinstance(trace, str) else None,
    )


def _plain(value: Any) -> Any:
    """DynamoDB numbers deserialize as Decimal; the frontend wants JSON numbers."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def client_payload(image: Mapping[str, Any], event_name: str) -> dict[str, Any]:
    """The message a subscriber receives for a stream record's deserialized NewImage."""
    payload = {f: _plain(image.get(f)) for f in PAYLOAD_FIELDS}
    payload["operation"] = "CREATE" if event_name == "INSERT" else "UPDATE"
    if TRACE_FIELD in image:
        payload[TRACE_FIELD] = image[TRACE_FIELD]
    return payload
