"""EventBridge delivery to our function runtime.

The bus and its rules live in moto (the ``events`` client sees them as on AWS). moto cannot
deliver to Lambda targets, so for each rule we create we take over its delivery: the event
moto built is matched with our validated pattern matcher (:mod:`fanoutsim.aws.patterns`;
moto treats unknown operators as matches) and handed to the target function asynchronously,
after the profile's EventBridge delay, with Lambda's two retries for async invocations.
``PutEvents`` entries that AWS would reject but moto accepts fail per entry, as on AWS.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any

from fanoutsim.aws import eventbridge
from fanoutsim.aws.metering import Meter
from fanoutsim.aws.patterns import matches, validate_pattern
from fanoutsim.functions.flight_model import TRACE_FIELD
from fanoutsim.runtime.delays import Delays
from fanoutsim.runtime.function_runtime import FunctionRuntime, Invocation

ASYNC_RETRIES = 2  # Lambda retries a failed asynchronous invocation twice


class EventBusDispatcher:
    """Hooks one moto events backend; delivers matched events on ``loop``."""

    def __init__(
        self,
        backend: Any,
        runtime: FunctionRuntime,
        delays: Delays,
        loop: asyncio.AbstractEventLoop,
        spawn: Callable[[Coroutine[Any, Any, Any]], Any],
    ) -> None:
        self.backend = backend
        self.runtime = runtime
        self.delays = delays
        self.loop = loop
        self.spawn = spawn
        self.delivered: list[Invocation] = []
        self.failed: list[Invocation] = []
        self.on_event: list[Callable[[dict[str, Any]], None]] = []
        self.on_gave_up: list[Callable[[tuple[str, ...], str], None]] = []
        self.meter: Meter | None = None
        self.pending = 0  # events accepted but not yet handled (for "wait until idle")
        self._put_events = backend.put_events
        backend.put_events = self._validated_put_events

    def route(self, bus: str, rule_name: str, function: str) -> None:
        """Deliver events matching ``rule_name`` on ``bus`` to ``function``."""
        rule = self.backend.describe_rule(rule_name, bus)
        pattern = json.loads(rule.event_pattern.dump() or "{}")
        validate_pattern(pattern)

        def send_to_targets(event: dict[str, Any], transform_input: bool = True) -> None:
            if matches(pattern, event):
                envelope = _aws_envelope(event)
                self.pending += 1
                self.loop.call_soon_threadsafe(self.spawn, self._deliver(function, envelope))

        rule.send_to_targets = send_to_targets

    def _validated_put_events(self, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if len(entries) > eventbridge.MAX_ENTRIES:
            result: list[dict[str, Any]] = self._put_events(entries)  # moto raises AWS's error
            return result
        verdicts: list[dict[str, Any] | None] = []
        for entry in entries:
            error = eventbridge.validate_entry(entry)
            verdicts.append(
                None if error is None else {"ErrorCode": error[0], "ErrorMessage": error[1]}
            )
        valid = [e for e, v in zip(entries, verdicts, strict=True) if v is None]
        accepted = iter(self._put_events(valid))
        if self.meter is not None:
            for entry in valid:
                self.meter.eventbridge_event(len(json.dumps(entry).encode()))
        return [v if v is not None else next(accepted) for v in verdicts]

    async def _deliver(self, function: str, event: dict[str, Any]) -> None:
        try:
            await self._deliver_with_retries(function, event)
        finally:
            self.pending -= 1

    async def _deliver_with_retries(self, function: str, event: dict[str, Any]) -> None:
        for listener in self.on_event:
            listener(event)
        await self.delays.asleep("eventbridge_delivery")
        detail = event.get("detail")
        trace = detail.get(TRACE_FIELD) if isinstance(detail, dict) else None
        traces = (trace,) if isinstance(trace, str) else ()
        for _attempt in range(1 + ASYNC_RETRIES):
            invocation = await self.runtime.invoke_async(function, event, traces)
            if invocation.ok:
                self.delivered.append(invocation)
                return
            self.failed.append(invocation)
        for callback in self.on_gave_up:
            callback(traces, invocation.error or "")


def _aws_envelope(event: dict[str, Any]) -> dict[str, Any]:
    """moto's event with AWS's ISO-8601 ``time`` and without moto's extra field."""
    envelope = {k: v for k, v in event.items() if k != "ingestion-time"}
    when = envelope.get("time")
    if isinstance(when, int | float):
        envelope["time"] = eventbridge.iso_time(when)
    elif isinstance(when, datetime):
        envelope["time"] = eventbridge.iso_time(when.timestamp())
    return envelope
