"""Injected delays drawn from a timing profile, so a live run can look like AWS.

Under the ``instant`` profile every delay is zero and nothing sleeps: the run shows the
pipeline's own cost on this machine.
"""

from __future__ import annotations

import asyncio
import threading
import time

import numpy as np

from fanoutsim.timing.profiles import TimingProfile

__all__ = ["Delays"]


class Delays:
    """Draws from ``profile`` with a seeded generator (thread-safe) and sleeps that long."""

    def __init__(self, profile: TimingProfile, seed: int | None = None) -> None:
        self.profile = profile
        self._rng = np.random.default_rng(seed)
        self._lock = threading.Lock()
        self._fixed: dict[str, float] = {}  # keys whose every draw is the same (hot path)

    def draw_s(self, key: str) -> float:
        if key in self._fixed:
            return self._fixed[key]
        distribution = self.profile.distribution(key)
        if distribution.is_fixed:
            self._fixed[key] = max(0.0, float(distribution.a)) / 1000.0
            return self._fixed[key]
        with self._lock:
            value = float(self.profile.sample_ms(key, self._rng))
        return max(0.0, value) / 1000.0

    def sleep(self, key: str) -> float:
        """Block the calling thread for one draw of ``key``; return the seconds slept."""
        seconds = self.draw_s(key)
        if seconds > 0:
            time.sleep(seconds)
        return seconds

    async def asleep(self, key: str) -> float:
        """Like :meth:`sleep`, without blocking the event loop."""
        seconds = self.draw_s(key)
        if seconds > 0:
            await asyncio.sleep(seconds)
        return seconds
