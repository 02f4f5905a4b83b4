"""The seed's five ways to deliver the flight board, each as a model with one result type.

``apigw-websocket`` is this project's pattern (the existing model, unchanged);
``appsync-events``, ``appsync-graphql`` and ``iot-core`` let a managed service fan out;
``polling`` has every client ask. :data:`PATTERNS` maps each name to its model function;
:mod:`fanoutsim.model.compare` runs them side by side.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from fanoutsim.model.patterns import (
    apigw_websocket,
    appsync_events,
    appsync_graphql,
    iot_core,
    polling,
)
from fanoutsim.model.patterns.base import Ask, Context, PatternResult

__all__ = ["PATTERNS", "Ask", "Context", "PatternResult"]

#: Each pattern's name (as ``fanoutsim compare --json`` keys it) and its model.
PATTERNS: Final[dict[str, Callable[[Ask, Context], PatternResult]]] = {
    apigw_websocket.NAME: apigw_websocket.model,
    appsync_events.NAME: appsync_events.model,
    appsync_graphql.NAME: appsync_graphql.model,
    iot_core.NAME: iot_core.model,
    polling.NAME: polling.model,
}
