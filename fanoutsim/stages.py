"""The named stages an update passes through, shared by the live simulator and the model.

The live tracer stamps these points for every update; the virtual-time model draws the
durations between them from a timing profile. Keeping the names in one place is what lets
the two be compared.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

__all__ = ["POINTS", "STAGES", "TRACE_FIELD", "Point"]

#: The field that carries an update's trace id from the producer's event detail, through
#: the flights table item and its stream record, to the message a client receives. It is
#: optional everywhere: the seed's own producers do not send it.
TRACE_FIELD: Final = "traceId"

#: A point in an update's life, in pipeline order.
Point = Literal[
    "put_events",  # producer calls EventBridge PutEvents
    "handler_start",  # flight_events function starts
    "table_write",  # view model written to the flights table
    "handler_end",  # flight_events function returns
    "stream_record",  # the record is read from the table's stream
    "fanout_start",  # stream_fanout function starts on the batch holding the record
    "post",  # one PostToConnection call returns (one per subscriber)
    "receipt",  # a client receives the message (one per subscriber)
]

#: The points, in pipeline order.
POINTS: Final[tuple[Point, ...]] = get_args(Point)

#: Stages between consecutive points, as (name, from_point, to_point).
STAGES: Final = (
    ("eventbridge", "put_events", "handler_start"),
    ("view_model_write", "handler_start", "table_write"),
    ("stream_delay", "table_write", "stream_record"),
    ("batch_to_invoke", "stream_record", "fanout_start"),
    ("post", "fanout_start", "post"),
    ("client_network", "post", "receipt"),
    ("end_to_end", "put_events", "receipt"),
)
