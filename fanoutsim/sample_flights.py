"""The sample flights and their scripted days of status updates, for demos and tests."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

__all__ = ["SampleFlight", "sample_flights", "scripted_day"]


@dataclass(frozen=True)
class SampleFlight:
    """A flight (the ``New flight scheduled`` detail) and its scripted status updates."""

    flight: dict[str, Any]
    script: tuple[tuple[str, str], ...]

    @property
    def flight_id(self) -> str:
        return str(self.flight["flightId"])


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
    """Every scripted update as (flightId, status, details), interleaved across flights."""
    flights = sample_flights()
    longest = max(len(f.script) for f in flights)
    return [
        (f.flight_id, *f.script[step])
        for step in range(longest)
        for f in flights
        if step < len(f.script)
    ]
