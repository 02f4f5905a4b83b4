"""The one exception tree of fanoutsim.

Every error the package raises on purpose derives from :class:`FanoutsimError`, so a caller
(a notebook cell, the CLI) can catch one type and show its message.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "ConnectRejected",
    "DataFileError",
    "DeliveryTimeout",
    "DeployError",
    "FanoutsimError",
    "InjectedFault",
    "InvalidEventPattern",
    "InvalidFlightEvent",
    "InvalidToken",
    "InvocationCutOff",
    "ManagementError",
    "RouteNotFound",
    "SimulatorError",
    "UnsupportedHttpVersion",
    "ValidationError",
]


class FanoutsimError(Exception):
    """Base class of every error fanoutsim raises on purpose."""


class ValidationError(FanoutsimError, ValueError):
    """Input that does not have the shape AWS (or the seed's producers) would send."""


class UnsupportedHttpVersion(ValidationError):
    """A request line in a well-formed HTTP version this server does not speak (505)."""


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


class InvalidToken(ValidationError):
    """A connection token that is malformed, forged or expired."""


class InjectedFault(FanoutsimError):
    """A failure a fault plan asked for (the report counts them apart)."""


class InvocationCutOff(FanoutsimError):
    """An AWS call from a Lambda invocation that has already timed out (Lambda has ended
    it; the simulator's thread runs on until this stops it)."""


class RouteNotFound(ValidationError):
    """A WebSocket message whose route key matches no route and the API has no ``$default``."""


class ConnectRejected(SimulatorError):
    """The gateway refused the upgrade (``$connect`` failed); ``status`` is the HTTP status."""

    def __init__(self, status: int) -> None:
        super().__init__(f"$connect refused the connection with HTTP {status}")
        self.status = status


class ManagementError(FanoutsimError):
    """A verdict of the ``@connections`` management API: AWS's error ``code`` (e.g.
    ``GoneException``), the HTTP ``status`` it travels with, and its ``message``. Both
    transports render it, so boto3 raises the same ``ClientError`` either way."""

    def __init__(self, code: str, status: int, message: str) -> None:
        super().__init__(f"{code} ({status}): {message}")
        self.code = code
        self.status = status
        self.message = message


class DeployError(FanoutsimError):
    """Deploying, driving or tearing down the real stack failed; the message says why and
    what to do (no credentials, a missing permission, a stack that cannot be updated)."""
