"""Waiting on CloudFormation: a change set until it is ready, a stack until it stops
changing, printing each of its events once (only those after the action began)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, Final

from fanoutsim.deploy.aws_calls import stack_status
from fanoutsim.errors import DeployError

__all__ = ["BUSY", "events", "wait_change_set", "wait_stack"]

#: The ending of every status of a stack that is still changing.
BUSY: Final = "_IN_PROGRESS"


def wait_stack(
    cloudformation: Any,
    stack_name: str,
    progress: Callable[[str], None],
    sleep: Callable[[float], None],
    timeout_s: float,
    seen: set[str],
) -> dict[str, Any]:
    """Poll the stack until it stops changing; print each event not in ``seen`` once."""
    deadline = time.monotonic() + timeout_s
    while True:
        described = stack_status(cloudformation, stack_name)
        if described is None:  # a deleted stack is no longer found by its name
            return {"StackStatus": "DELETE_COMPLETE"}
        for event in reversed(events(cloudformation, stack_name)):
            if event["EventId"] not in seen:
                seen.add(event["EventId"])
                reason = event.get("ResourceStatusReason")
                progress(
                    f"{event['LogicalResourceId']}: {event['ResourceStatus']}"
                    + (f" ({reason})" if reason else "")
                )
        status = described["StackStatus"]
        if not status.endswith(BUSY):
            return described
        if time.monotonic() > deadline:
            raise DeployError(f"stack {stack_name} still {status} after {timeout_s:.0f} s")
        sleep(5.0)


def wait_change_set(
    cloudformation: Any,
    stack_name: str,
    change_set: str,
    sleep: Callable[[float], None],
    timeout_s: float,
) -> Mapping[str, Any]:
    """Poll a change set until CloudFormation has worked it out (or failed to)."""
    deadline = time.monotonic() + timeout_s
    while True:
        described: Mapping[str, Any] = cloudformation.describe_change_set(
            StackName=stack_name, ChangeSetName=change_set
        )
        if described["Status"] in ("CREATE_COMPLETE", "FAILED"):
            return described
        if time.monotonic() > deadline:
            raise DeployError(f"change set {change_set} still {described['Status']}")
        sleep(2.0)


def events(cloudformation: Any, stack_name: str) -> list[dict[str, Any]]:
    """The stack's events, newest first (none for a stack that is gone)."""
    import botocore.exceptions

    try:
        return list(cloudformation.describe_stack_events(StackName=stack_name)["StackEvents"])
    except botocore.exceptions.ClientError:
        return []
