"""botocore event hooks: meter every AWS call the pipeline makes, stamp table writes, and
short-circuit ``apigatewaymanagementapi`` calls to an in-process gateway.

Only calls made inside a function invocation (or by the simulated producer) are metered,
so a notebook inspecting the tables does not inflate the bill. The hooks are registered on
the boto3 default session, whose handlers every client created later copies; the handler
modules create their clients lazily, after the simulator has installed these hooks.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any
from urllib.parse import unquote

import boto3

from fanoutsim.aws.metering import Meter
from fanoutsim.runtime import capacity
from fanoutsim.runtime.delays import Delays
from fanoutsim.runtime.function_runtime import Invocation, current_invocation
from fanoutsim.runtime.gateway import Gateway, PostError

#: Set while the simulated producer calls AWS, so its PutEvents is metered too.
producer_call: ContextVar[bool] = ContextVar("producer_call", default=False)

WRITE_OPERATIONS = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"})

#: The timing-profile delay injected before each call the pipeline makes (the call itself
#: then costs what it costs here, which the ``instant`` profile shows alone).
CALL_DELAYS = {
    "dynamodb:PutItem": "dynamodb_write",
    "dynamodb:UpdateItem": "dynamodb_write",
    "dynamodb:DeleteItem": "dynamodb_write",
    "dynamodb:Scan": "dynamodb_read",
    "dynamodb:Query": "dynamodb_read",
    "apigatewaymanagementapi:PostToConnection": "post_to_connection",
}


class _Response:
    """The minimum of an HTTP response botocore reads after a short-circuited call."""

    def __init__(self, status: int) -> None:
        self.status_code = status
        self.headers: dict[str, str] = {}
        self.content = b""
        self.raw = None


class Instrumentation:
    """Installs and removes the hooks for one simulator."""

    def __init__(
        self,
        meter: Meter,
        table_lookup: Callable[[str], Any] | None = None,
        delays: Delays | None = None,
    ) -> None:
        self.meter = meter
        self.delays = delays
        self.table_lookup = table_lookup or (lambda name: None)
        self.in_process: dict[str, Gateway] = {}
        self.on_table_write: list[Callable[[str, Invocation | None], None]] = []
        self._lock = threading.Lock()
        self._events = boto3.DEFAULT_SESSION.events if boto3.DEFAULT_SESSION else None

    def install(self) -> None:
        if boto3.DEFAULT_SESSION is None:
            boto3.setup_default_session()
        assert boto3.DEFAULT_SESSION is not None
        self._events = boto3.DEFAULT_SESSION.events
        self._events.register(
            "before-parameter-build", self._before_call, unique_id="fanoutsim-meter"
        )
        self._events.register(
            "before-call.apigatewaymanagementapi", self._management, unique_id="fanoutsim-mgmt"
        )
        self._events.register(
            "after-call.dynamodb", self._after_dynamodb, unique_id="fanoutsim-ddb"
        )

    def uninstall(self) -> None:
        if self._events is None:
            return
        self._events.unregister("before-parameter-build", unique_id="fanoutsim-meter")
        self._events.unregister("before-call.apigatewaymanagementapi", unique_id="fanoutsim-mgmt")
        self._events.unregister("after-call.dynamodb", unique_id="fanoutsim-ddb")

    def _before_call(self, model: Any, params: Any = None, context: Any = None, **_: Any) -> None:
        if current_invocation.get() is not None or producer_call.get():
            service = model.service_model.endpoint_prefix
            if service == "execute-api":
                service = "apigatewaymanagementapi"
            self.meter.count_call(service, model.name)
            if context is not None and service == "dynamodb":
                context["fanoutsim_params"] = params or {}
            delay = CALL_DELAYS.get(f"{service}:{model.name}")
            if delay is not None and self.delays is not None:
                self.delays.sleep(delay)

    def _management(self, model: Any, params: dict[str, Any], **_: Any) -> Any:
        """Serve PostToConnection in-process when the endpoint belongs to such a gateway."""
        url: str = params.get("url", "")
        gateway = next((g for base, g in self.in_process.items() if url.startswith(base)), None)
        if gateway is None or model.name != "PostToConnection":
            return None
        connection_id = url.rsplit("/", 1)[-1]

        body = params.get("body", b"")
        data = (
            body
            if isinstance(body, bytes)
            else bytes(body.read() if hasattr(body, "read") else body)
        )
        error: PostError | None = gateway.post_threadsafe(unquote(connection_id), data)
        if error is None:
            return _Response(200), {"ResponseMetadata": {"HTTPStatusCode": 200}}
        status, headers, payload = error
        code = headers.get("x-amzn-ErrorType", "Unknown").split(":")[0]
        return _Response(status), {
            "Error": {"Code": code, "Message": payload.decode(errors="replace")},
            "ResponseMetadata": {"HTTPStatusCode": status},
        }

    def _after_dynamodb(
        self, model: Any, parsed: Any = None, context: Any = None, **_: Any
    ) -> None:
        params = (context or {}).get("fanoutsim_params")
        if params is not None:  # a metered call: count its capacity
            table = self.table_lookup(params.get("TableName", ""))
            if model.name in capacity.WRITES:
                self.meter.dynamodb_write(capacity.write_bytes(model.name, params, table))
            elif model.name in capacity.PAGED_READS:
                self.meter.dynamodb_read(capacity.read_bytes(model.name, parsed or {}, table))
        if model.name not in WRITE_OPERATIONS:
            return
        invocation = current_invocation.get()
        for callback in self.on_table_write:
            callback(model.name, invocation)
