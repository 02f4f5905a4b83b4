"""A Lambda function's configuration as data, held to Lambda's limits: its name, handler,
memory and timeout. The stack lists its functions with it; the runtime runs them, the
template deploys them and the cost model prices them from the same records."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fanoutsim.errors import ConfigError
from fanoutsim.stages import Point

__all__ = [
    "MAX_MEMORY_MB",
    "MAX_TIMEOUT_S",
    "MIN_MEMORY_MB",
    "MIN_TIMEOUT_S",
    "FunctionSpec",
    "Handler",
]

Handler = Callable[[dict[str, Any], Any], Any]

# Lambda's configuration limits
# (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html).
MIN_MEMORY_MB, MAX_MEMORY_MB = 128, 10_240
MIN_TIMEOUT_S, MAX_TIMEOUT_S = 1.0, 900.0


@dataclass(frozen=True)
class FunctionSpec:
    """A deployed function: its name, handler path ``module:function``, memory size and
    timeout, and the trace points (if any) its start and end mark for the updates it
    handles (the flight-events function's start is ``handler_start``)."""

    name: str
    handler: str
    memory_mb: int = 128
    timeout_s: float = 30.0
    start_point: Point | None = None
    end_point: Point | None = None

    def __post_init__(self) -> None:
        if not MIN_MEMORY_MB <= self.memory_mb <= MAX_MEMORY_MB:
            raise ConfigError(
                f"{self.name}: memory_mb must be from {MIN_MEMORY_MB} to {MAX_MEMORY_MB} MB, "
                f"not {self.memory_mb}"
            )
        if not MIN_TIMEOUT_S <= self.timeout_s <= MAX_TIMEOUT_S:
            raise ConfigError(
                f"{self.name}: timeout_s must be from {MIN_TIMEOUT_S} to {MAX_TIMEOUT_S} s, "
                f"not {self.timeout_s}"
            )

    def load(self) -> Handler:
        module_name, _, attr = self.handler.partition(":")
        try:
            handler: Handler = getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError) as error:
            raise ConfigError(f"cannot load handler {self.handler!r}: {error}") from error
        return handler
