"""The flight view model shared by the handlers: statuses, validation and the client payload.

The shapes follow the seed sample's flight model and producers (``New flight scheduled``
carries the whole flight, ``Flight status updated`` carries ``{flightId, event,
eventDetails}``), its stored item (``type: "FlightStatus"``, an ``expiresAt`` TTL a day
ahead) and its frontend, which reads ``flightId, origin, dest, airlineCode, flightNum, gate,
terminal, event, eventDetails, createdAt, updatedAt`` plus ``operation`` (``CREATE`` /
``UPDATE``). Validation rejects what the seed's schema rejects: an unknown status, a missing
``flightId``, a field of the wrong type (``terminal`` is a number, ``gate`` a string).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

from fanoutsim.errors import InvalidFlightEvent
from fanoutsim.stages import TRACE_FIELD

__all__ = [
    "EVENT_BUS",
    "EVENT_SOURCE",
    "FLIGHT_FIELDS",
    "ITEM_LIFETIME_S",
    "ITEM_TYPE",
    "NEW_FLIGHT",
    "OPTIONAL_FIELDS",
    "PAYLOAD_FIELDS",
    "REQUIRED_FIELDS",
    "STATUSES",
    "STATUS_UPDATED",
    "client_payload",
    "flight_code",
    "new_flight_item",
    "status_update",
    "status_version",
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

#: Required string fields of a new flight, then the optional ones with their types.
REQUIRED_FIELDS: Final = ("flightId", "origin", "dest", "airlineCode", "flightNum")
OPTIONAL_FIELDS: Final = (("gate", str), ("terminal", (int, float)), ("eventDetails", str))
FLIGHT_FIELDS: Final = (*REQUIRED_FIELDS, "gate", "terminal")
PAYLOAD_FIELDS: Final = (*FLIGHT_FIELDS, "event", "eventDetails", "createdAt", "updatedAt")

#: The item type the seed's stream filter keeps, and how long a flight item lives (its TTL).
ITEM_TYPE: Final = "FlightStatus"
ITEM_LIFETIME_S: Final = 24 * 60 * 60


def flight_code(flight: Mapping[str, Any], default: str = "") -> str:
    """The flight number people read and type (``FS101``: ``airlineCode`` and
    ``flightNum``), or ``default`` for a flight without one; ``flightId`` is a UUID."""
    return f"{flight.get('airlineCode', '')}{flight.get('flightNum', '')}" or default


def _require_str(detail: Mapping[str, Any], field: str, *, empty: bool = True) -> str:
    value = detail.get(field)
    if not isinstance(value, str) or (not empty and not value):
        kind = "a string" if empty else "a non-empty string"
        raise InvalidFlightEvent(f"flight event detail needs {kind} {field!r}, got {value!r}")
    return value


def _require_status(detail: Mapping[str, Any]) -> str:
    status = detail.get("event")
    if status not in STATUSES:
        raise InvalidFlightEvent(
            f"unknown flight status {status!r}; expected one of {', '.join(STATUSES)}"
        )
    return str(status)


def _optional(detail: Mapping[str, Any], field: str, kind: Any) -> Any:
    value = detail.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, kind):
        expected = "a string" if kind is str else "a number"
        raise InvalidFlightEvent(f"flight event field {field!r} must be {expected}, got {value!r}")
    return Decimal(str(value)) if isinstance(value, float) else value


def _object(detail: Any) -> Mapping[str, Any]:
    if not isinstance(detail, Mapping):
        raise InvalidFlightEvent("flight event detail must be a JSON object")
    return detail


def new_flight_item(detail: Mapping[str, Any], now_iso: str, now_s: int) -> dict[str, Any]:
    """Validate a ``New flight scheduled`` detail (the seed's flight model: ``flightId``,
    ``origin``, ``dest``, ``airlineCode``, ``flightNum`` strings; ``gate`` an optional string,
    ``terminal`` an optional number, ``event`` a known status defaulting to SCHEDULED,
    ``eventDetails`` an optional string) and return the item to put, with the seed's
    ``type`` and ``expiresAt`` (a day after ``now_s``)."""
    detail = _object(detail)
    item: dict[str, Any] = {"flightId": _require_str(detail, "flightId", empty=False)}
    item.update({f: _require_str(detail, f) for f in REQUIRED_FIELDS[1:]})
    for field, kind in OPTIONAL_FIELDS:
        value = _optional(detail, field, kind)
        if value is not None:
            item[field] = value
    item["event"] = _require_status(detail) if "event" in detail else "SCHEDULED"
    item.setdefault("eventDetails", "")
    item["type"] = ITEM_TYPE
    item["createdAt"] = _optional(detail, "createdAt", str) or now_iso
    item["updatedAt"] = _optional(detail, "updatedAt", str) or now_iso
    item["expiresAt"] = now_s + ITEM_LIFETIME_S
    if isinstance(detail.get(TRACE_FIELD), str):
        item[TRACE_FIELD] = detail[TRACE_FIELD]
    return item


def status_update(detail: Mapping[str, Any]) -> tuple[str, str, str, str | None]:
    """Validate a ``Flight status updated`` detail: (flightId, event, eventDetails, traceId)."""
    detail = _object(detail)
    trace = detail.get(TRACE_FIELD)
    return (
        _require_str(detail, "flightId", empty=False),
        _require_status(detail),
        _optional(detail, "eventDetails", str) or "",
        trace if isinstance(trace, str) else None,
    )


def status_version(detail: Mapping[str, Any], event_time: str | None) -> int:
    """The ordering key of a status update: the producer's ``version`` (a whole number that
    grows with every update it publishes; fanoutsim's producers use microseconds since the
    epoch), else the event's ``time`` (EventBridge's, to the second) in microseconds, else
    0. EventBridge guarantees no order and each event runs in its own invocation, so the
    view model keeps a status only if no newer one was written first."""
    version = detail.get("version")
    if isinstance(version, int) and not isinstance(version, bool) and version >= 0:
        return version
    if event_time:
        try:
            when = datetime.fromisoformat(event_time.replace("Z", "+00:00"))
        except ValueError:
            return 0
        return int(when.timestamp() * 1_000_000)
    return 0


def _plain(value: Any) -> Any:
    """DynamoDB numbers deserialize as Decimal; the frontend wants JSON numbers."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def client_payload(image: Mapping[str, Any], event_name: str) -> dict[str, Any]:
    """The message a subscriber receives for a stream record's deserialized NewImage: the
    seed's ``toJson()`` fields (absent ones left out, as ``JSON.stringify`` drops undefined),
    numbers as numbers, plus ``operation``."""
    payload = {f: _plain(image[f]) for f in PAYLOAD_FIELDS if image.get(f) is not None}
    payload["operation"] = "CREATE" if event_name == "INSERT" else "UPDATE"
    if TRACE_FIELD in image:
        payload[TRACE_FIELD] = image[TRACE_FIELD]
    return payload
