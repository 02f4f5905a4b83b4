from __future__ import annotations

from decimal import Decimal

import pytest

from fanoutsim.errors import InvalidFlightEvent
from fanoutsim.functions import flight_model
from tests.functions.flights import FLIGHT


def test_new_flight_item_defaults_to_scheduled_and_stamps_times() -> None:
    item = flight_model.new_flight_item(FLIGHT, "2026-01-01T00:00:00.000Z")
    assert item["event"] == "SCHEDULED"
    assert item["createdAt"] == item["updatedAt"] == "2026-01-01T00:00:00.000Z"
    assert "traceId" not in item


@pytest.mark.parametrize("missing", ["flightId", "origin", "gate"])
def test_new_flight_needs_every_field(missing: str) -> None:
    detail = {k: v for k, v in FLIGHT.items() if k != missing}
    with pytest.raises(InvalidFlightEvent, match=missing):
        flight_model.new_flight_item(detail, "t")


def test_status_update_rejects_unknown_status_and_names_the_valid_ones() -> None:
    with pytest.raises(InvalidFlightEvent, match=r"unknown flight status 'TELEPORTED'.*BOARDING"):
        flight_model.status_update({"flightId": "FS1", "event": "TELEPORTED"})


def test_status_update_needs_flight_id() -> None:
    with pytest.raises(InvalidFlightEvent, match="flightId"):
        flight_model.status_update({"event": "BOARDING"})


def test_client_payload_has_the_seed_frontend_fields() -> None:
    image = {
        **FLIGHT,
        "event": "BOARDING",
        "eventDetails": "",
        "createdAt": "a",
        "updatedAt": "b",
        "gate": "A1",
        "seats": Decimal("180"),
        "traceId": "t1",
    }
    payload = flight_model.client_payload(image, "MODIFY")
    assert set(payload) == {*flight_model.PAYLOAD_FIELDS, "operation", "traceId"}
    assert payload["operation"] == "UPDATE"
    assert flight_model.client_payload(image, "INSERT")["operation"] == "CREATE"
