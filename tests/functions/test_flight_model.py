"""The seed sample's flight model: what a new flight and a status update may carry, the
item stored, and the message a client receives (the seed's ``toJson()`` plus ``operation``)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from fanoutsim.errors import InvalidFlightEvent
from fanoutsim.functions import flight_model
from tests.functions.flights import FLIGHT, SEED_FLIGHT

NOW = "2026-01-01T00:00:00.000Z"


def test_new_flight_item_defaults_to_scheduled_and_stamps_times_type_and_ttl() -> None:
    item = flight_model.new_flight_item(FLIGHT, NOW, 1_000)
    assert item["event"] == "SCHEDULED" and item["eventDetails"] == ""
    assert item["createdAt"] == item["updatedAt"] == NOW
    assert item["type"] == "FlightStatus"
    assert item["expiresAt"] == 1_000 + 24 * 3600
    assert "traceId" not in item


def test_the_seeds_own_event_is_accepted_with_its_types() -> None:
    item = flight_model.new_flight_item(SEED_FLIGHT, NOW, 0)
    assert item["flightId"] == "5d11ca87-61b0-46b1-b7cd-d252a53ad5f2"
    assert item["terminal"] == 3 and isinstance(item["terminal"], int)
    assert item["gate"] == "C20"


def test_gate_and_terminal_are_optional_and_a_float_terminal_is_stored_as_decimal() -> None:
    bare = {k: v for k, v in FLIGHT.items() if k not in ("gate", "terminal")}
    item = flight_model.new_flight_item(bare, NOW, 0)
    assert "gate" not in item and "terminal" not in item
    assert flight_model.new_flight_item({**FLIGHT, "terminal": 2.5}, NOW, 0)["terminal"] == (
        Decimal("2.5")
    )


@pytest.mark.parametrize("missing", ["flightId", "origin", "dest", "airlineCode", "flightNum"])
def test_new_flight_needs_every_required_field(missing: str) -> None:
    detail = {k: v for k, v in FLIGHT.items() if k != missing}
    with pytest.raises(InvalidFlightEvent, match=missing):
        flight_model.new_flight_item(detail, NOW, 0)


@pytest.mark.parametrize(
    ("field", "value"),
    [("terminal", "3"), ("terminal", True), ("gate", 7), ("flightId", ""), ("origin", None)],
)
def test_fields_of_the_wrong_type_are_rejected(field: str, value: object) -> None:
    with pytest.raises(InvalidFlightEvent, match=field):
        flight_model.new_flight_item({**FLIGHT, field: value}, NOW, 0)


def test_status_update_rejects_unknown_status_and_names_the_valid_ones() -> None:
    with pytest.raises(InvalidFlightEvent, match=r"unknown flight status 'TELEPORTED'.*BOARDING"):
        flight_model.status_update({"flightId": "FS1", "event": "TELEPORTED"})


def test_status_update_needs_flight_id_and_takes_optional_details() -> None:
    with pytest.raises(InvalidFlightEvent, match="flightId"):
        flight_model.status_update({"event": "BOARDING"})
    assert flight_model.status_update({"flightId": "F", "event": "BOARDING"}) == (
        "F",
        "BOARDING",
        "",
        None,
    )


def test_client_payload_is_the_seeds_to_json_plus_operation() -> None:
    image = {
        **SEED_FLIGHT,
        "terminal": Decimal("3"),
        "createdAt": "a",
        "updatedAt": "b",
        "type": "FlightStatus",
        "expiresAt": Decimal("99"),
        "traceId": "t1",
    }
    payload = flight_model.client_payload(image, "MODIFY")
    assert set(payload) == {*flight_model.PAYLOAD_FIELDS, "operation", "traceId"}
    assert payload["operation"] == "UPDATE"
    assert json.loads(json.dumps(payload))["terminal"] == 3  # a JSON number, not "3"
    assert flight_model.client_payload(image, "INSERT")["operation"] == "CREATE"
    without_gate = flight_model.client_payload({**image, "gate": None}, "MODIFY")
    assert "gate" not in without_gate  # JSON.stringify leaves undefined fields out


def test_the_ordering_key_is_the_producers_version_else_the_events_time() -> None:
    from fanoutsim.functions.flight_model import status_version

    assert status_version({"version": 7}, "2026-01-01T00:00:00Z") == 7
    assert (
        status_version({}, "2026-01-01T00:00:01Z") - status_version({}, "2026-01-01T00:00:00Z")
        == 1_000_000
    )
    for odd in ({"version": True}, {"version": -1}, {"version": "3"}):
        assert status_version(odd, None) == 0  # not a version: the event's time, or 0
    assert status_version({}, "not a time") == 0
