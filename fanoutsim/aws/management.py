"""The ``@connections`` management API of a WebSocket API stage, without any I/O.

As the ``websockets`` library keeps its protocol apart from its connections, this module
keeps what API Gateway decides apart from how the request travelled: the registry of
connections, the verdict on each ``PostToConnection`` / ``GetConnection`` /
``DeleteConnection`` (throttled, gone, too large, an injected fault), the counts the report shows,
and the wire form of each error. The WebSocket server registers and forgets connections;
the HTTP transport and the in-process transport both ask for verdicts here and render the
same :class:`~fanoutsim.errors.ManagementError`, so boto3 raises the same ``ClientError``
through either. Thread-safe: posts arrive on the loop (HTTP) and on function workers
(in-process).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fanoutsim.aws.apigw import MAX_PAYLOAD_BYTES, ConnectionId, EventSource
from fanoutsim.aws.quotas import TokenBucket
from fanoutsim.aws.utc import iso_utc
from fanoutsim.errors import ManagementError, ValidationError

__all__ = [
    "ERROR_STATUS",
    "ConnectionRecord",
    "ManagementApi",
    "connection_info",
    "error",
    "wire",
]

#: The management API's error codes and their HTTP status.
ERROR_STATUS: dict[str, int] = {
    "BadRequestException": 400,
    "ForbiddenException": 403,
    "GoneException": 410,
    "InvalidSignatureException": 403,
    "UnrecognizedClientException": 403,
    "PayloadTooLargeException": 413,
    "LimitExceededException": 429,
    "InternalServerErrorException": 500,
}


def error(code: str, message: str, status: int | None = None) -> ManagementError:
    """The :class:`ManagementError` for AWS error ``code`` (its usual status unless given)."""
    try:
        usual = ERROR_STATUS[code]
    except KeyError:
        raise ValidationError(f"unknown management API error {code!r}") from None
    return ManagementError(code, usual if status is None else status, message)


def gone(connection_id: str) -> ManagementError:
    return error("GoneException", f"Connection {connection_id} is gone")


def wire(
    failure: ManagementError, *, request_id: str | None = None
) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of an error, in the rest-json form botocore parses."""
    headers = {"Content-Type": "application/json", "x-amzn-ErrorType": failure.code}
    if request_id is not None:
        headers["x-amzn-RequestId"] = request_id
    return failure.status, headers, json.dumps({"message": failure.message}).encode()


def _iso8601(epoch_ms: int) -> str:
    return iso_utc(epoch_ms / 1000, millis=True)


def connection_info(
    connected_at_ms: int, last_active_ms: int, source_ip: str, user_agent: str
) -> dict[str, Any]:
    """The JSON body of ``GET @connections/{id}`` in the wire casing botocore expects."""
    return {
        "connectedAt": _iso8601(connected_at_ms),
        "identity": {"sourceIp": source_ip, "userAgent": user_agent},
        "lastActiveAt": _iso8601(last_active_ms),
    }


def _always_open() -> bool:
    return True


@dataclass(slots=True)
class ConnectionRecord:
    """A connection as the management API knows it. ``is_open`` is the socket side's
    answer to "can this connection still take a message" (False once it is closing)."""

    id: ConnectionId
    source: EventSource
    label: str
    last_active_ms: int
    is_open: Callable[[], bool] = field(default=_always_open, repr=False)


class ManagementApi:
    """The registry and the verdicts of one stage's ``@connections`` API."""

    def __init__(self, throttle: TokenBucket | None = None) -> None:
        self._connections: dict[str, ConnectionRecord] = {}
        self._lock = threading.Lock()
        #: The account's request bucket every call takes from (None: never throttled).
        self.throttle = throttle
        #: A fault plan's answer to a post, if it breaks it (None: no plan).
        self.chaos: Callable[[str], ManagementError | None] | None = None
        self.counts = {
            "posted": 0,
            "gone": 0,
            "failed": 0,
            "throttled": 0,
            "rejected_connects": 0,
        }

    # ----------------------------------------------------------------- registry
    def connected(self, record: ConnectionRecord) -> None:
        """``$connect`` succeeded: the connection takes posts from now on (as on AWS, even
        before the 101 response is out)."""
        with self._lock:
            self._connections[record.id] = record

    def forget(self, connection_id: str) -> ConnectionRecord | None:
        """The connection is closed (or cut): posts to it answer 410 from now on."""
        with self._lock:
            return self._connections.pop(connection_id, None)

    def rejected(self) -> None:
        """``$connect`` refused an upgrade."""
        with self._lock:
            self.counts["rejected_connects"] += 1

    def records(self) -> list[ConnectionRecord]:
        with self._lock:
            return list(self._connections.values())

    def labels(self) -> dict[str, str]:
        """Connection id -> the client's label, for views."""
        return {record.id: record.label for record in self.records()}

    # ----------------------------------------------------------------- verdicts
    def _admit(self) -> None:
        """Take a token from the account's bucket, or answer 429 (under the lock)."""
        if self.throttle is not None and not self.throttle.take():
            self.counts["throttled"] += 1
            raise error("LimitExceededException", "Rate exceeded")

    def _live(self, connection_id: str) -> ConnectionRecord:
        record = self._connections.get(connection_id)
        if record is None or not record.is_open():
            raise gone(connection_id)
        return record

    def post(self, connection_id: str, data: bytes) -> ConnectionRecord:
        """``PostToConnection``: the connection to send ``data`` to, or the error raised."""
        with self._lock:
            self._admit()
            if len(data) > MAX_PAYLOAD_BYTES:
                raise error("PayloadTooLargeException", "Message too long")
            broken = self.chaos(connection_id) if self.chaos is not None else None
            if broken is not None:
                self.counts["throttled" if broken.status == 429 else "failed"] += 1
                raise broken
            try:
                record = self._live(connection_id)
            except ManagementError:
                self.counts["gone"] += 1
                raise
            self.counts["posted"] += 1
            return record

    def get(self, connection_id: str) -> dict[str, Any]:
        """``GetConnection``: the connection's info body, or GoneException."""
        with self._lock:
            self._admit()
            record = self._live(connection_id)
        source = record.source
        return connection_info(
            source.connected_at_ms, record.last_active_ms, source.source_ip, source.user_agent
        )

    def delete(self, connection_id: str) -> ConnectionRecord:
        """``DeleteConnection``: the connection the socket side is to close, or GoneException."""
        with self._lock:
            self._admit()
            return self._live(connection_id)

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self.counts)
