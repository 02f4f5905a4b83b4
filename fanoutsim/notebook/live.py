"""Redraw-on-change plumbing for the widgets: a throttle that coalesces redraw requests, and
the base class of views that follow a running simulator.

``sim.on_change`` calls back on a simulator thread. A callback must not block it, so it only
asks the :class:`Throttle` for a redraw; the throttle redraws on its own timer thread, at
most once per interval (widget value changes from any thread reach the browser).
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from fanoutsim.pipeline import Pipeline

__all__ = ["LiveView", "Throttle"]


class Throttle:
    """Coalesce requests for ``action`` and run it at most once per ``interval_s``, on a
    timer thread; ``request()`` never blocks. Errors are kept in ``errors``, not raised."""

    def __init__(self, action: Callable[[], None], interval_s: float = 0.1) -> None:
        self.action = action
        self.interval_s = interval_s
        self.errors: list[str] = []
        self.runs = 0
        self._lock = threading.Lock()
        self._running = threading.Lock()
        self._timer: threading.Timer | None = None
        self._generation = 0  # which timer is current; cancel() retires the pending one
        self._last = 0.0
        self._idle = threading.Event()
        self._idle.set()

    def request(self) -> None:
        with self._lock:
            if self._timer is not None:
                return
            delay = max(0.0, self._last + self.interval_s - time.monotonic())
            self._idle.clear()
            self._generation += 1
            self._timer = threading.Timer(delay, self._fire, args=(self._generation,))
            self._timer.daemon = True
            self._timer.start()

    def _fire(self, generation: int) -> None:
        with self._running:  # one run at a time; a request made meanwhile runs afterwards
            with self._lock:
                if generation != self._generation or self._timer is None:
                    return  # cancelled while it waited for the running one
                self._timer = None
                self._last = time.monotonic()
            try:
                self.action()
                self.runs += 1
            except Exception as error:  # a broken view must not kill the timer thread
                self.errors.append(f"{type(error).__name__}: {error}")
            with self._lock:
                if self._timer is None:
                    self._idle.set()

    def cancel(self) -> None:
        """Drop a pending run (a running one finishes)."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            self._generation += 1
            self._idle.set()

    def flush(self) -> None:
        """Drop a pending run and run now, in the calling thread, after any running one (so
        this run is the last)."""
        self.cancel()
        with self._running:
            self.action()

    def wait(self, timeout: float = 5.0) -> bool:
        """Wait until no run is pending; True if that happened within ``timeout``."""
        return self._idle.wait(timeout)


class LiveView(ABC):
    """A view redrawn on the simulator changes in ``kinds``. Subclasses set ``widget`` and
    implement ``refresh()`` (draw from the simulator's current state)."""

    kinds: ClassVar[frozenset[str]] = frozenset({"message", "connections", "invocation"})
    interval_s: ClassVar[float] = 0.1
    widget: Any

    def __init__(self, sim: Pipeline) -> None:
        self.sim = sim
        self.live = True
        self.throttle = Throttle(self.refresh, self.interval_s)
        sim.on_change(self._changed)

    def _changed(self, kind: str) -> None:
        if self.live and kind in self.kinds:
            self.throttle.request()

    @abstractmethod
    def refresh(self) -> None:
        """Draw from the simulator's current state."""

    def wait(self, timeout: float = 5.0) -> bool:
        """Wait for the pending redraw (tests and scripts; the notebook never needs it)."""
        return self.throttle.wait(timeout)

    def freeze(self) -> None:
        """Draw once more, then stop following the simulator (its state stays on screen)."""
        self.live = False
        self.sim.off_change(self._changed)
        self.throttle.flush()

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)
