"""EventBridge delivery to the function runtime: asynchronous, after the profile's
EventBridge delay, with Lambda's two retries for asynchronous invocations (after the
profile's ``async_retry_delays_ms``: AWS's one and two minutes, scaled down under
``instant``).

The bus, its rules and their matching live in moto (patched in :mod:`fanoutsim.moto.hooks`,
which calls :meth:`EventBusDispatcher.submit` for each matched event). Everything about an
accepted event happens on the simulator's event loop: ``submit`` may be called from any
thread and only schedules the delivery there, so the count of events in flight is only
ever touched by the loop, and :meth:`EventBusDispatcher.drained` can wait for it.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fanoutsim import tracing
from fanoutsim.feed import Feed
from fanoutsim.runtime.delays import Delays
from fanoutsim.runtime.function_runtime import FunctionRuntime

__all__ = ["ASYNC_RETRIES", "EventBusDispatcher"]

ASYNC_RETRIES = 2  # Lambda retries a failed asynchronous invocation twice


class EventBusDispatcher:
    """Delivers matched events to their target function on ``loop``."""

    def __init__(
        self,
        runtime: FunctionRuntime,
        delays: Delays,
        feed: Feed,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self.runtime = runtime
        self.delays = delays
        self.feed = feed
        self.loop = loop
        self.delivered = 0  # events their function handled
        self.failed_attempts = 0  # invocations that failed (each retry counts)
        self._pending = 0  # accepted but not yet handled; loop thread only
        self._drained = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def pending(self) -> int:
        """Events accepted and not yet handled (read on the loop for an exact answer)."""
        return self._pending

    def submit(self, function: str, event: dict[str, Any]) -> None:
        """Deliver ``event`` to ``function`` (thread-safe; returns at once)."""
        self.loop.call_soon_threadsafe(self._start, function, event)

    def _start(self, function: str, event: dict[str, Any]) -> None:
        self._pending += 1
        self._drained.clear()
        task = asyncio.ensure_future(self._deliver(function, event))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drained(self) -> None:
        """Return once no event is in flight (call on the loop)."""
        while self._pending:
            await self._drained.wait()

    async def close(self) -> None:
        """Cancel deliveries still waiting and wait for them to end."""
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _deliver(self, function: str, event: dict[str, Any]) -> None:
        try:
            await self._deliver_with_retries(function, event)
        finally:
            self._pending -= 1
            if not self._pending:
                self._drained.set()

    async def _deliver_with_retries(self, function: str, event: dict[str, Any]) -> None:
        await self.delays.asleep("eventbridge_delivery")
        trace = tracing.from_detail(event.get("detail"))
        traces = (trace,) if trace is not None else ()
        waits = self.delays.profile.async_retry_delays_ms
        for attempt in range(1 + ASYNC_RETRIES):
            if attempt:
                await asyncio.sleep(waits[attempt - 1] / 1000)
            invocation = await self.runtime.invoke_async(function, event, traces)
            if invocation.ok:
                self.delivered += 1
                return
            self.failed_attempts += 1
        self.feed.dropped(traces, f"{function} failed after retries: {invocation.error or ''}")
