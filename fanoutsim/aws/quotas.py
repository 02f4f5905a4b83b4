"""API Gateway's time and rate quotas for a WebSocket API, as small state machines.

The figures come from ``fanoutsim/data/limits.toml`` (each with its page and date); tests
and workshops shrink them (seconds instead of minutes, tens of posts a second instead of
thousands) through :class:`GatewayQuotas`. API Gateway throttles with a token bucket: a
request takes a token, tokens come back at the steady rate up to the burst capacity, and a
request that finds the bucket empty is answered 429.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from fanoutsim.aws.limits import limit
from fanoutsim.errors import ConfigError

__all__ = ["GatewayQuotas", "TokenBucket"]


class TokenBucket:
    """``rate`` tokens a second, at most ``burst`` saved up; thread-safe."""

    __slots__ = ("_at", "_clock", "_lock", "_tokens", "burst", "rate")

    def __init__(
        self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ConfigError(f"a token bucket needs rate > 0 and burst >= 1, not {rate}/{burst}")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._tokens = float(burst)
        self._at = clock()
        self._lock = threading.Lock()

    def take(self) -> bool:
        """Take one token; False (throttled) if there is none."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
            self._at = now
            if self._tokens < 1:
                return False
            self._tokens -= 1
            return True


def _default(name: str) -> float:
    return float(limit(name))


@dataclass(frozen=True)
class GatewayQuotas:
    """Connection lifetime and throttling of one stage (defaults: AWS's quotas)."""

    idle_timeout_s: float = _default("websocket_idle_timeout_s")
    max_connection_s: float = _default("websocket_max_connection_s")
    new_connections_per_s: float = _default("websocket_new_connections_per_s")
    new_connections_burst: float = _default("websocket_new_connections_per_s")
    requests_per_s: float = _default("account_requests_per_s")
    requests_burst: float = _default("account_burst")

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if not value > 0:
                raise ConfigError(f"quota {name} must be > 0, not {value}")
        for name in ("new_connections_burst", "requests_burst"):
            if getattr(self, name) < 1:
                raise ConfigError(f"quota {name} must be >= 1")

    def connection_bucket(self) -> TokenBucket:
        return TokenBucket(self.new_connections_per_s, self.new_connections_burst)

    def request_bucket(self) -> TokenBucket:
        """The bucket @connections calls (PostToConnection, Get, Delete) take from."""
        return TokenBucket(self.requests_per_s, self.requests_burst)
