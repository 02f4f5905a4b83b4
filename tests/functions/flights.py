"""A flight as the seed's producers send it in ``New flight scheduled``."""

FLIGHT = {
    "flightId": "FS1",
    "origin": "SEA",
    "dest": "JFK",
    "airlineCode": "FS",
    "flightNum": "1",
    "gate": "A1",
    "terminal": "A",
}
