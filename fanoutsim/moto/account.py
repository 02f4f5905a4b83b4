"""An AWS account on moto, in this process, with the environment the handlers read.

Starting it mocks AWS for every boto3 client in the process and sets the variables a SAM
template would give the functions; stopping it restores the environment as it was.

moto keeps every model object it ever made (each DynamoDB item written, each stream record
and shard iterator) in a per-class list for its server's dashboard, so a simulator that
runs for hours would hold every row it ever deleted: about 2 KB per connection that came
and went. The simulator has no dashboard, so while it runs those services keep none.
"""

from __future__ import annotations

import os
from typing import Any

from moto import mock_aws
from moto.core.model_instances import model_data
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodbstreams.models import dynamodbstreams_backends
from moto.events.models import events_backends
from moto.kinesis.models import kinesis_backends

from fanoutsim import stack

__all__ = ["LOCAL_PASSTHROUGH", "UNTRACKED_SERVICES", "MotoAccount"]

#: The gateway's endpoints are real local HTTP: moto lets them through at once (it would
#: otherwise try every AWS URL pattern on each PostToConnection first).
LOCAL_PASSTHROUGH = {"core": {"passthrough": {"urls": [r"http://127\.0\.0\.1:\d+/.*"]}}}


#: The services whose model objects moto is told not to keep a record of.
UNTRACKED_SERVICES = ("dynamodb", "dynamodbstreams", "events")


class _KeepNothing(list[Any]):
    """A list that drops what is appended (moto's instance record, switched off)."""

    def append(self, _instance: Any) -> None:
        return None


def _stop_instance_records() -> None:
    for service in UNTRACKED_SERVICES:
        for model in model_data[service].values():
            model.instances_tracked = _KeepNothing()  # type: ignore[attr-defined]


class MotoAccount:
    """moto's account ``stack.ACCOUNT`` in ``region``; call :meth:`stop` when done."""

    def __init__(self, region: str, environment: dict[str, str] | None = None) -> None:
        self.region = region
        self._saved = {k: os.environ.get(k) for k in stack.ENVIRONMENT_KEYS}
        self._mock = mock_aws(config=LOCAL_PASSTHROUGH)  # type: ignore[call-overload]
        self._mock.start()
        _stop_instance_records()  # moto's stop() puts plain lists back
        os.environ.update(stack.base_environment(region))
        os.environ.update(environment or {})

    def table(self, name: str) -> Any:
        """moto's model of a DynamoDB table (None if there is no such table)."""
        return dynamodb_backends[stack.ACCOUNT][self.region].tables.get(name)

    def dynamodb_backend(self) -> Any:
        """moto's DynamoDB backend of this account and region."""
        return dynamodb_backends[stack.ACCOUNT][self.region]

    def streams_backend(self) -> Any:
        """moto's DynamoDB Streams backend of this account and region."""
        return dynamodbstreams_backends[stack.ACCOUNT][self.region]

    def kinesis_backend(self) -> Any:
        """moto's Kinesis backend of this account and region."""
        return kinesis_backends[stack.ACCOUNT][self.region]

    def events_backend(self) -> Any:
        """moto's EventBridge backend of this account and region."""
        return events_backends[stack.ACCOUNT][self.region]

    def stop(self) -> None:
        self._mock.stop()
        for key, value in self._saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
