"""The one exception tree of fanoutsim.

Every error the package raises on purpose derives from :class:`FanoutsimError`, so a caller
(a notebook cell, the CLI) can catch one type and show its message.
"""

from __future__ import annotations


class FanoutsimError(Exception):
    """Base class of every error fanoutsim raises on purpose."""


class ValidationError(FanoutsimError, ValueError):
    """Input that does not have the shape AWS (or the seed's producers) would send."""


class InvalidFlightEvent(ValidationError):
    """A flight event whose detail is missing a field or names an unknown status."""


class InvalidEventPattern(ValidationError):
    """An EventBridge event pattern that AWS would reject (unknown operator, bad value)."""


class ConfigError(FanoutsimError, ValueError):
    """A bad setting: an event source mapping value out of range, a missing env variable."""


class DataFileError(FanoutsimError):
    """A price table or timing profile that cannot be read or lacks a source."""


class SimulatorError(FanoutsimError, RuntimeError):
    """The simulator was used in a way it cannot serve (closed, not started, timed out)."""


class DeliveryTimeout(SimulatorError):
    """Deliveries did not all arrive within the allowed time."""


class RouteNotFound(ValidationError):
    """A WebSocket message whose route key matches no route and the API has no ``$default``."""
