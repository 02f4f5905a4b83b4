"""botocore event hooks that meter every AWS call the pipeline makes and inject the timing
profile's per-call delays.

Only calls made inside a function invocation (or by the simulated producer) are metered,
so a notebook inspecting the tables does not inflate the bill. The hooks are registered on
the boto3 default session, whose handlers every client created later copies; the handler
modules create their clients lazily, after the simulator has installed these hooks.
DynamoDB capacity comes from an :class:`ItemSizes` port (moto's stored items, in the
simulator), so this module never looks inside moto.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from typing import Any, Protocol

import boto3

from fanoutsim.aws.metering import Meter
from fanoutsim.errors import InvocationCutOff
from fanoutsim.runtime.delays import Delays
from fanoutsim.runtime.function_runtime import current_invocation

__all__ = ["CALL_DELAYS", "Instrumentation", "ItemSizes", "producer_call", "session_events"]

#: Set while the simulated producer calls AWS, so its PutEvents is metered too.
producer_call: ContextVar[bool] = ContextVar("producer_call", default=False)

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

_HOOKS = (
    ("before-parameter-build", "fanoutsim-meter"),
    ("after-call.dynamodb", "fanoutsim-capacity"),
)


def session_events() -> Any:
    """The boto3 default session's event hooks, which every client created later copies."""
    if boto3.DEFAULT_SESSION is None:
        boto3.setup_default_session()
    assert boto3.DEFAULT_SESSION is not None
    return boto3.DEFAULT_SESSION.events


class ItemSizes(Protocol):
    """Bytes a DynamoDB call touched (None: not a metered write or read)."""

    def write_bytes(self, operation: str, params: Mapping[str, Any]) -> int | None: ...

    def read_bytes(
        self, operation: str, parsed: Mapping[str, Any], table_name: str
    ) -> int | None: ...


def _tables_of(params: Mapping[str, Any]) -> tuple[str, ...]:
    """The DynamoDB tables a call's parameters name (one, or a batch's several)."""
    if isinstance(params.get("TableName"), str):
        return (params["TableName"],)
    return tuple(sorted(params.get("RequestItems", {})))


class Instrumentation:
    """Installs and removes the metering hooks for one simulator."""

    def __init__(self, meter: Meter, sizes: ItemSizes, delays: Delays) -> None:
        self.meter = meter
        self.sizes = sizes
        self.delays = delays
        self._events: Any = None

    def install(self) -> None:
        self._events = session_events()
        self._events.register(_HOOKS[0][0], self._before_call, unique_id=_HOOKS[0][1])
        self._events.register(_HOOKS[1][0], self._after_dynamodb, unique_id=_HOOKS[1][1])

    def uninstall(self) -> None:
        if self._events is None:
            return
        for event, unique_id in _HOOKS:
            self._events.unregister(event, unique_id=unique_id)
        self._events = None

    def _before_call(self, model: Any, params: Any = None, context: Any = None, **_: Any) -> None:
        invocation = current_invocation.get()
        if invocation is None and not producer_call.get():
            return
        if invocation is not None and invocation.timed_out:
            raise InvocationCutOff(
                f"{invocation.function} {invocation.request_id} timed out: no AWS call "
                f"after its timeout ({model.name} refused)"
            )
        service = model.service_model.endpoint_prefix
        if service == "execute-api":
            service = "apigatewaymanagementapi"
        function = invocation.function if invocation is not None else None
        self.meter.count_call(service, model.name, function, _tables_of(params or {}))
        if context is not None and service == "dynamodb":
            context["fanoutsim_params"] = params or {}
        delay = CALL_DELAYS.get(f"{service}:{model.name}")
        if delay is not None:
            self.delays.sleep(delay)

    def _after_dynamodb(
        self, model: Any, parsed: Any = None, context: Any = None, **_: Any
    ) -> None:
        params = (context or {}).get("fanoutsim_params")
        if params is None:  # not a metered call
            return
        written = self.sizes.write_bytes(model.name, params)
        if written is not None:
            self.meter.dynamodb_write(written)
            return
        read = self.sizes.read_bytes(model.name, parsed or {}, params.get("TableName", ""))
        if read is not None:
            self.meter.dynamodb_read(read)
