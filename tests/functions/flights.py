"""Flights as the seed's producers send them in ``New flight scheduled``."""

#: A flight in fanoutsim's own sample style.
FLIGHT = {
    "flightId": "FS1",
    "origin": "SEA",
    "dest": "JFK",
    "airlineCode": "FS",
    "flightNum": "1",
    "gate": "A1",
    "terminal": 1,
}

#: The seed's own sample event detail (its events/create.json): a UUID id, a numeric
#: terminal, an explicit SCHEDULED status and empty details.
SEED_FLIGHT = {
    "flightId": "5d11ca87-61b0-46b1-b7cd-d252a53ad5f2",
    "origin": "LAS",
    "dest": "SEA",
    "event": "SCHEDULED",
    "eventDetails": "",
    "airlineCode": "SVS",
    "flightNum": "999",
    "gate": "C20",
    "terminal": 3,
}
