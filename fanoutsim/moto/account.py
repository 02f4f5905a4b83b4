"""An AWS account on moto, in this process, with the environment the handlers read.

Starting it mocks AWS for every boto3 client in the process and sets the variables a SAM
template would give the functions; stopping it restores the environment as it was.
"""

from __future__ import annotations

import os
from typing import Any

from moto import mock_aws
from moto.dynamodb.models import dynamodb_backends
from moto.events.models import events_backends

from fanoutsim import stack

__all__ = ["LOCAL_PASSTHROUGH", "MotoAccount"]

#: The gateway's endpoints are real local HTTP: moto lets them through at once (it would
#: otherwise try every AWS URL pattern on each PostToConnection first).
LOCAL_PASSTHROUGH = {"core": {"passthrough": {"urls": [r"http://127\.0\.0\.1:\d+/.*"]}}}


class MotoAccount:
    """moto's account ``stack.ACCOUNT`` in ``region``; call :meth:`stop` when done."""

    def __init__(self, region: str, environment: dict[str, str] | None = None) -> None:
        self.region = region
        self._saved = {k: os.environ.get(k) for k in stack.ENVIRONMENT_KEYS}
        self._mock = mock_aws(config=LOCAL_PASSTHROUGH)  # type: ignore[call-overload]
        self._mock.start()
        os.environ.update(stack.base_environment(region))
        os.environ.update(environment or {})

    def table(self, name: str) -> Any:
        """moto's model of a DynamoDB table (None if there is no such table)."""
        return dynamodb_backends[stack.ACCOUNT][self.region].tables.get(name)

    def dynamodb_backend(self) -> Any:
        """moto's DynamoDB backend of this account and region."""
        return dynamodb_backends[stack.ACCOUNT][self.region]

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
