"""The sample flights' ids under the codes tests read them by (``FS101`` is the UUID of
the flight whose code is FS101)."""

from fanoutsim.sample_flights import flight_id

FS101, FS202, FS303, FS404, FS505, FS606 = (
    flight_id(f"FS{n}") for n in (101, 202, 303, 404, 505, 606)
)
