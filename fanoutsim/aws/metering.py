"""Metering: what a run uses, counted the way AWS bills it (pure data, priced elsewhere).

Rounding choices:

- Lambda duration is billed in whole milliseconds, rounded up (a 0.2 ms run bills 1 ms);
  GB-seconds = billed_ms / 1000 * memory_mb / 1024.
- WebSocket messages are billed in 32 KB units (a 33 KB message is two).
- EventBridge custom events are billed in 64 KB chunks.
- DynamoDB on-demand: a write of an item up to 1 KB is one write request unit; a Scan or
  Query page reads the total size of the items it scanned, rounded up to 4 KB, at half a
  read request unit per 4 KB (eventually consistent, the default).
- Connection minutes: AWS meters connection time in minutes; here every connection's
  duration is summed in seconds and each connection is rounded *up* to a whole minute
  (a 5-second connection bills one minute), which is the conservative reading of the
  pricing page. Open connections count up to ``now_s``.

The Meter is thread-safe (one lock) because handlers run in worker threads.
"""

from __future__ import annotations

import math
import re
import threading
from collections import Counter
from dataclasses import dataclass
from typing import Any, Final

from fanoutsim.aws.apigw import message_units
from fanoutsim.aws.eventbridge import event_units
from fanoutsim.aws.pricing import dynamodb_read_units, dynamodb_write_units

__all__ = [
    "APP_ID_PREFIX",
    "Meter",
    "app_id",
    "billed_ms",
    "connection_minutes_for",
    "function_of",
]

#: The application id (``AWS_SDK_UA_APP_ID``) a user's function runs with: every AWS SDK
#: puts ``app/<id>`` in its User-Agent, so the AWS endpoint counts that function's calls as
#: the pipeline's, as the in-process handlers' are counted.
APP_ID_PREFIX: Final = "fanoutsim-fn."
_APP_ID = re.compile(r"(?:^|\s)app/" + re.escape(APP_ID_PREFIX) + r"([A-Za-z0-9_-]{1,64})(?:\s|$)")


def app_id(function: str) -> str:
    """The SDK application id of ``function``'s environments."""
    return APP_ID_PREFIX + function


def function_of(user_agent: str) -> str | None:
    """The function whose SDK sent ``user_agent``, if one of ours did."""
    found = _APP_ID.search(user_agent)
    return found.group(1) if found else None


@dataclass
class _FunctionUse:
    count: int = 0
    cold: int = 0
    errors: int = 0
    billed_ms: int = 0
    init_ms: float = 0.0
    gb_seconds: float = 0.0


def billed_ms(duration_ms: float) -> int:
    """Lambda's billed duration: whole milliseconds, rounded up, at least 1."""
    return max(1, math.ceil(duration_ms))


def connection_minutes_for(seconds: float) -> int:
    """Billed minutes for one connection open ``seconds`` (started minutes; 0 s -> 0)."""
    return math.ceil(max(0.0, seconds) / 60)


class Meter:
    """Counts AWS usage: API calls, invocations, WebSocket messages, connection time,
    EventBridge events. Every method is safe to call from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._operations: Counter[str] = Counter()
        self._by_function: dict[str, Counter[str]] = {}
        self._tables: dict[str, dict[str, set[str]]] = {}
        self._outside: Counter[str] = Counter()
        self._functions: dict[str, _FunctionUse] = {}
        self._messages = 0
        self._message_units = 0
        self._open: dict[str, float] = {}
        self._closed_minutes = 0
        self._events = 0
        self._event_units = 0
        self._read_units = 0.0
        self._write_units = 0.0
        self._kinesis_opened: float | None = None
        self._kinesis = {"records": 0, "cdc_units": 0, "bytes_in": 0, "bytes_out": 0}

    def count_call(
        self,
        service: str,
        operation: str,
        function: str | None = None,
        tables: tuple[str, ...] = (),
    ) -> None:
        """One API call of the pipeline, e.g. ``("dynamodb", "PutItem")``, made by
        ``function`` (None for a producer's call) on ``tables``; what each function calls,
        and where, is what its role must allow (:mod:`fanoutsim.deploy.permissions`)."""
        key = f"{service}:{operation}"
        caller = function or "(producer)"
        with self._lock:
            self._operations[key] += 1
            self._by_function.setdefault(caller, Counter())[key] += 1
            if tables:
                self._tables.setdefault(caller, {}).setdefault(key, set()).update(tables)

    def count_outside_call(self, service: str, operation: str) -> None:
        """One API call from outside the pipeline (an SDK or the CLI on the AWS endpoint)."""
        with self._lock:
            self._outside[f"{service}:{operation}"] += 1

    def count_endpoint_call(self, service: str, operation: str, user_agent: str) -> None:
        """One call on the AWS endpoint: the pipeline's when a function of the stack made
        it (its SDK's application id says which), an outside caller's otherwise."""
        function = function_of(user_agent)
        if function is None:
            self.count_outside_call(service, operation)
        else:
            self.count_call(service, operation, function)

    def invocation(
        self,
        function: str,
        duration_ms: float,
        memory_mb: int,
        cold: bool,
        error: bool,
        init_ms: float = 0.0,
    ) -> None:
        """One Lambda invocation and its billed duration: the handler's, plus on a cold
        start the INIT phase (billed since 2025-08-01: https://aws.amazon.com/lambda/pricing/,
        https://aws.amazon.com/blogs/compute/aws-lambda-standardizes-billing-for-init-phase/)."""
        billed = billed_ms(duration_ms + init_ms)
        with self._lock:
            use = self._functions.setdefault(function, _FunctionUse())
            use.count += 1
            use.cold += int(cold)
            use.errors += int(error)
            use.billed_ms += billed
            use.init_ms += init_ms
            use.gb_seconds += billed / 1000 * memory_mb / 1024

    def websocket_message(self, size_bytes: int) -> None:
        """One message through the gateway (either direction)."""
        with self._lock:
            self._messages += 1
            self._message_units += message_units(size_bytes)

    def connection_opened(self, connection_id: str, now_s: float) -> None:
        with self._lock:
            self._open[connection_id] = now_s

    def connection_closed(self, connection_id: str, now_s: float) -> None:
        """Close a connection; unknown or already closed ids are ignored (best effort, as
        ``$disconnect`` is)."""
        with self._lock:
            opened = self._open.pop(connection_id, None)
            if opened is not None:
                self._closed_minutes += connection_minutes_for(now_s - opened)

    def connection_minutes(self, now_s: float) -> float:
        """Billed connection minutes so far, open connections counted up to ``now_s``."""
        with self._lock:
            return self._connection_minutes(now_s)

    def _connection_minutes(self, now_s: float) -> float:
        still_open = sum(connection_minutes_for(now_s - t) for t in self._open.values())
        return float(self._closed_minutes + still_open)

    def eventbridge_event(self, size_bytes: int) -> None:
        """One custom event accepted by PutEvents."""
        with self._lock:
            self._events += 1
            self._event_units += event_units(size_bytes)

    def dynamodb_write(self, item_bytes: int) -> None:
        """One item written (or deleted): a write request unit per started KB."""
        with self._lock:
            self._write_units += dynamodb_write_units(item_bytes)

    def dynamodb_read(self, scanned_bytes: int, *, consistent: bool = False) -> None:
        """One Scan/Query page or GetItem that read ``scanned_bytes``."""
        units = dynamodb_read_units(scanned_bytes, strongly_consistent=consistent)
        with self._lock:
            self._read_units += units

    def kinesis_stream_opened(self, now_s: float) -> None:
        """The seed's Kinesis stream exists from ``now_s`` (billed by the stream hour)."""
        with self._lock:
            self._kinesis_opened = now_s

    def kinesis_put(self, record_bytes: int, change_bytes: int) -> None:
        """One change put into the Kinesis stream: its record (billed in 1 KB steps) and
        DynamoDB's change data capture units (one per KB of change, as a write)."""
        with self._lock:
            self._kinesis["records"] += 1
            self._kinesis["bytes_in"] += math.ceil(record_bytes / 1024) * 1024
            self._kinesis["cdc_units"] += dynamodb_write_units(change_bytes)

    def kinesis_read(self, record_bytes: int) -> None:
        """Record data read from the Kinesis stream by the event source mapping."""
        with self._lock:
            self._kinesis["bytes_out"] += record_bytes

    def _kinesis_usage(self, now_s: float) -> dict[str, float]:
        if self._kinesis_opened is None:
            return {}
        return {
            **self._kinesis,
            "stream_hours": max(0.0, now_s - self._kinesis_opened) / 3600,
        }

    def snapshot(self, now_s: float) -> dict[str, Any]:
        """Everything counted so far, as plain data."""
        with self._lock:
            return {
                "operations": dict(sorted(self._operations.items())),
                "outside_operations": dict(sorted(self._outside.items())),
                "operations_by_function": {
                    name: dict(sorted(calls.items()))
                    for name, calls in sorted(self._by_function.items())
                },
                "tables_by_function": {
                    name: {call: sorted(names) for call, names in sorted(calls.items())}
                    for name, calls in sorted(self._tables.items())
                },
                "invocations": {
                    name: {
                        "count": use.count,
                        "cold": use.cold,
                        "errors": use.errors,
                        "billed_ms": use.billed_ms,
                        "init_ms": use.init_ms,
                        "gb_seconds": use.gb_seconds,
                    }
                    for name, use in sorted(self._functions.items())
                },
                "websocket": {"messages": self._messages, "units": self._message_units},
                "connection_minutes": self._connection_minutes(now_s),
                "open_connections": len(self._open),
                "eventbridge_events": self._event_units,
                "eventbridge_entries": self._events,
                "dynamodb": {"read_units": self._read_units, "write_units": self._write_units},
                "kinesis": self._kinesis_usage(now_s),
            }
