"""The sample flights and their scripted days of status updates, for demos and tests.

Each has a UUID ``flightId``, as the seed's schema requires, and a readable code (``FS101``:
``airlineCode`` and ``flightNum``) that people type; :func:`flight_id` turns one into the
other."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from fanoutsim.functions.flight_model import flight_code

__all__ = ["SampleFlight", "flight_id", "sample_flights", "scripted_day"]


@dataclass(frozen=True)
class SampleFlight:
    """A flight (the ``New flight scheduled`` detail) and its scripted status updates."""

    flight: dict[str, Any]
    script: tuple[tuple[str, str], ...]

    @property
    def flight_id(self) -> str:
        return str(self.flight["flightId"])

    @property
    def code(self) -> str:
        """The flight number people read and type, e.g. ``FS101``."""
        return flight_code(self.flight)


@cache
def sample_flights() -> tuple[SampleFlight, ...]:
    raw: dict[str, Any] = json.loads(
        resources.files("fanoutsim.data").joinpath("sample_flights.json").read_text()
    )
    return tuple(
        SampleFlight(
            {k: v for k, v in f.items() if k != "script"},
            tuple((status, details) for status, details in f["script"]),
        )
        for f in raw["flights"]
    )


def scripted_day() -> list[tuple[str, str, str]]:
    """Every scripted update as (flight code, status, details), interleaved across flights
    (``sim.flights.publish`` takes the code for the sample flight's id)."""
    flights = sample_flights()
    longest = max(len(f.script) for f in flights)
    return [
        (f.code, *f.script[step])
        for step in range(longest)
        for f in flights
        if step < len(f.script)
    ]


def flight_id(flight: str) -> str:
    """The ``flightId`` of the sample flight whose code is ``flight`` (``"FS101"``), or
    ``flight`` itself: any other text is taken to be a flight id already."""
    return _by_code().get(flight, flight)


@cache
def _by_code() -> dict[str, str]:
    return {f.code: f.flight_id for f in sample_flights()}
