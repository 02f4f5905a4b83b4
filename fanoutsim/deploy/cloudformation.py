"""Deploy and tear down the real stack with CloudFormation change sets (the only module
here that changes an AWS account, and only when called with consent).

``deploy`` packages the functions, creates a change set, shows what it would do (account,
region, partition, the changes, what the stack costs: :mod:`fanoutsim.deploy.consent`) and,
with consent, makes or reuses the code bucket, uploads the zip (named by its content),
executes the change set and waits, printing only new events. ``teardown`` shows what it
would delete and, with consent, deletes the stack and the code bucket fanoutsim made for
it. Both refuse a stack fanoutsim did not make (no ``fanoutsim:made-by`` tag) and can run
twice. What ``deploy`` needs later (outputs, the authorizer's secret, the bucket) is kept
in a small state file; without it, teardown finds the bucket by its tags.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Final

from fanoutsim.deploy import consent, state
from fanoutsim.deploy.aws_calls import call, failure_reason, session_for, stack_status
from fanoutsim.deploy.code_bucket import (
    bucket_exists,
    bucket_name,
    empty_and_delete,
    make_bucket,
    own_bucket_of,
)
from fanoutsim.deploy.package import build_package
from fanoutsim.deploy.stack_events import BUSY, events, wait_change_set, wait_stack
from fanoutsim.deploy.template import StackOptions, build_template, functions_of
from fanoutsim.errors import DeployError

__all__ = ["Deployment", "Teardown", "bucket_name", "deploy", "teardown"]

_STACK_NAME: Final = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,63}")
_DONE: Final = ("CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE")
_NO_CHANGES: Final = ("didn't contain changes", "No updates are to be performed")
_TEMPLATE_BODY_LIMIT: Final = 51_200  # bytes CloudFormation takes inline
_NOT_APPLIED: Final = "not applied: pass confirm=True (or --yes) to go ahead"


@dataclass
class Deployment:
    """A deployed stack: where it is, its outputs, and what deploy created for it.
    ``applied`` is False when deploy only showed what it would do."""

    stack_name: str
    region: str
    outputs: dict[str, str]
    bucket: str
    code_key: str
    created_bucket: bool = False
    auth_secret: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    changed: bool = True
    applied: bool = True


def _check_name(stack_name: str) -> None:
    if not _STACK_NAME.fullmatch(stack_name):
        raise DeployError(
            f"stack name {stack_name!r} must start with a letter and hold only letters, "
            "digits and hyphens (at most 64)"
        )


def _unchanged(cloudformation: Any, stack_name: str, body: str, parameters: list[Any]) -> bool:
    """The deployed template and visible parameters are those about to be sent."""
    deployed = cloudformation.get_template(StackName=stack_name)["TemplateBody"]
    if isinstance(deployed, str):
        deployed = json.loads(deployed)
    if deployed != json.loads(body):
        return False
    stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    now = {p["ParameterKey"]: p.get("ParameterValue") for p in stack.get("Parameters", [])}
    return all(now.get(p["ParameterKey"]) in (p["ParameterValue"], "****") for p in parameters)


def deploy(
    stack_name: str,
    region: str | None = None,
    profile: str | None = None,
    *,
    options: StackOptions | None = None,
    bucket: str | None = None,
    session: Any = None,
    confirm: consent.Confirm = False,
    subscribers: int = 100,
    progress: Callable[[str], None] = print,
    sleep: Callable[[float], None] = time.sleep,
    timeout_s: float = 1800.0,
) -> Deployment:
    """Create or update ``stack_name`` after showing what will change and what it costs
    (one update priced at ``subscribers``); ``confirm`` True goes ahead, False only shows,
    a callable is asked. Returns the outputs (printed too)."""
    _check_name(stack_name)
    options = options or StackOptions()
    session, region = session_for(region, profile, session)
    sts, s3 = session.client("sts", region_name=region), session.client("s3", region_name=region)
    cloudformation = session.client("cloudformation", region_name=region)
    identity = call("checking the credentials", sts.get_caller_identity)
    account, partition = identity["Account"], consent.partition_of(identity["Arn"])
    existing = stack_status(cloudformation, stack_name)
    consent.refuse_unless_ours(existing, stack_name, "change")
    status = _deployable_status(stack_name, existing)
    if existing is not None and status is None:  # an empty stack a first deploy left
        progress(f"{stack_name}: removing the empty stack an interrupted first deploy left")
        call("removing the empty stack", cloudformation.delete_stack, StackName=stack_name)
        wait_stack(cloudformation, stack_name, progress, sleep, timeout_s, set())
    previous = state.load(stack_name, region)
    given = bucket or (None if previous.get("created_bucket", True) else previous.get("bucket"))
    if given is not None and not bucket_exists(s3, given):
        raise DeployError(f"bucket {given} cannot be used: it does not exist")
    code_bucket = given or bucket_name(stack_name, account, region)
    package = build_package(functions_of(options))
    secret = None
    parameters = [
        {"ParameterKey": "CodeBucket", "ParameterValue": code_bucket},
        {"ParameterKey": "CodeKey", "ParameterValue": package.key},
    ]
    if options.authorizer:
        secret = previous.get("auth_secret") or secrets.token_urlsafe(32)
        parameters.append({"ParameterKey": "AuthSecret", "ParameterValue": secret})
    body = json.dumps(build_template(options), separators=(",", ":"))
    if len(body.encode()) > _TEMPLATE_BODY_LIMIT:
        raise DeployError(f"the template is {len(body)} bytes, over CloudFormation's inline limit")
    result = Deployment(
        stack_name, region, {}, code_bucket, package.key, given is None, secret, asdict(options)
    )
    if status is not None and _unchanged(cloudformation, stack_name, body, parameters):
        progress(f"{stack_name}: no changes")
        result.changed = False
    else:
        change_set = f"fanoutsim-{int(time.time())}"
        call(
            "creating the change set",
            cloudformation.create_change_set,
            StackName=stack_name,
            ChangeSetName=change_set,
            ChangeSetType="UPDATE" if status else "CREATE",
            TemplateBody=body,
            Parameters=parameters,
            Capabilities=["CAPABILITY_IAM"],
            Tags=consent.tags(stack_name, options),
        )
        described = wait_change_set(cloudformation, stack_name, change_set, sleep, timeout_s)
        if described["Status"] == "FAILED":
            reason = str(described.get("StatusReason", ""))
            if not any(text in reason for text in _NO_CHANGES):
                raise DeployError(f"change set failed: {reason}")
            cloudformation.delete_change_set(StackName=stack_name, ChangeSetName=change_set)
            progress(f"{stack_name}: no changes")
            result.changed = False
        else:
            shown = consent.preview(
                action="deploy",
                stack_name=stack_name,
                account=account,
                region=region,
                partition=partition,
                changes=consent.changes_of(described),
                notes=consent.cost_lines(options, subscribers),
            )
            progress(shown)
            if not consent.agreed(confirm, f"Apply these changes to {stack_name}?"):
                _discard(cloudformation, stack_name, change_set, new_stack=status is None)
                progress(f"{stack_name}: {_NOT_APPLIED}")
                result.changed = result.applied = False
                result.outputs = _outputs(existing)
                return result
            _upload(s3, result, package.data)
            _execute(cloudformation, stack_name, change_set, progress, sleep, timeout_s)
    result.outputs = _outputs(stack_status(cloudformation, stack_name))
    state.save(stack_name, region, asdict(result))
    for key, value in sorted(result.outputs.items()):
        progress(f"{key} = {value}")
    return result


def _deployable_status(stack_name: str, existing: Mapping[str, Any] | None) -> str | None:
    """The stack's status for a change set (None: create it), or a sentence saying why it
    cannot be deployed now and what to run."""
    status = str(existing["StackStatus"]) if existing else None
    if status in (None, "REVIEW_IN_PROGRESS"):  # no stack, or one whose change set never ran
        return None
    teardown_first = f"run `fanoutsim teardown --stack {stack_name}`, then deploy again"
    if status == "ROLLBACK_COMPLETE":
        raise DeployError(
            f"stack {stack_name} is in ROLLBACK_COMPLETE: its first creation failed and it "
            f"cannot be updated; {teardown_first}"
        )
    if status == "DELETE_FAILED":
        raise DeployError(f"stack {stack_name} is partly deleted (DELETE_FAILED); {teardown_first}")
    if status.endswith(BUSY):
        raise DeployError(
            f"stack {stack_name} is busy ({status}): another deploy or teardown is running; "
            "run the same command again when it has finished"
        )
    return status


def _outputs(described: Mapping[str, Any] | None) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in (described or {}).get("Outputs", [])}


def _discard(cloudformation: Any, stack_name: str, change_set: str, *, new_stack: bool) -> None:
    """Leave nothing behind after a change set that was only shown."""
    call(
        "discarding the change set",
        cloudformation.delete_change_set,
        StackName=stack_name,
        ChangeSetName=change_set,
    )
    if new_stack:  # CreateChangeSet made an empty stack (REVIEW_IN_PROGRESS) to hold it
        call("removing the empty stack", cloudformation.delete_stack, StackName=stack_name)


def _upload(s3: Any, result: Deployment, data: bytes) -> None:
    """The zip into the code bucket, making the stack's own bucket on first use."""
    bucket = result.bucket
    if result.created_bucket and not bucket_exists(s3, bucket):
        make_bucket(s3, bucket, result.region, result.stack_name)
    key = result.code_key
    call("uploading the functions", s3.put_object, Bucket=bucket, Key=key, Body=data)


def _execute(
    cloudformation: Any,
    stack_name: str,
    change_set: str,
    progress: Callable[[str], None],
    sleep: Callable[[float], None],
    timeout_s: float,
) -> None:
    seen = {event["EventId"] for event in events(cloudformation, stack_name)}
    call(
        "executing the change set",
        cloudformation.execute_change_set,
        StackName=stack_name,
        ChangeSetName=change_set,
    )
    final = wait_stack(cloudformation, stack_name, progress, sleep, timeout_s, seen)
    if final["StackStatus"] not in _DONE:
        raise DeployError(
            f"stack {stack_name} ended {final['StackStatus']}: "
            f"{failure_reason(cloudformation, stack_name)}"
        )


@dataclass(frozen=True)
class Teardown:
    """What teardown removed (true when anything), or that it only showed what it would."""

    removed: tuple[str, ...] = ()
    applied: bool = True

    def __bool__(self) -> bool:
        return bool(self.removed)


def teardown(
    stack_name: str,
    region: str | None = None,
    profile: str | None = None,
    *,
    session: Any = None,
    confirm: consent.Confirm = False,
    progress: Callable[[str], None] = print,
    sleep: Callable[[float], None] = time.sleep,
    timeout_s: float = 1800.0,
) -> Teardown:
    """Delete ``stack_name`` (with its log groups) and the code bucket fanoutsim made for
    it, after showing what will go; ``confirm`` as for :func:`deploy`."""
    _check_name(stack_name)
    session, region = session_for(region, profile, session)
    cloudformation = session.client("cloudformation", region_name=region)
    s3, sts = session.client("s3", region_name=region), session.client("sts", region_name=region)
    identity = call("checking the credentials", sts.get_caller_identity)
    account, partition = identity["Account"], consent.partition_of(identity["Arn"])
    existing = stack_status(cloudformation, stack_name)
    consent.refuse_unless_ours(existing, stack_name, "delete")
    remembered = state.load(stack_name, region)
    bucket = (
        remembered.get("bucket")
        if remembered.get("created_bucket")
        else own_bucket_of(s3, stack_name, account, region)
    )
    if existing is None and bucket is None:
        state.forget(stack_name, region)
        return Teardown()
    changes = consent.changes_of(
        {
            "Changes": [
                {"ResourceChange": {**r, "Action": "Remove"}}
                for r in (_resources(cloudformation, stack_name) if existing else [])
            ]
        }
    )
    notes = [] if bucket is None else [f"remove   {bucket} (the code bucket, not in the stack)"]
    progress(
        consent.preview(
            action="teardown: delete",
            stack_name=stack_name,
            account=account,
            region=region,
            partition=partition,
            changes=changes,
            notes=notes,
        )
    )
    if not consent.agreed(confirm, f"Delete {stack_name} and everything above?"):
        progress(f"{stack_name}: {_NOT_APPLIED}")
        return Teardown(applied=False)
    removed: list[str] = []
    if existing is not None:
        seen = {event["EventId"] for event in events(cloudformation, stack_name)}
        call("deleting the stack", cloudformation.delete_stack, StackName=stack_name)
        final = wait_stack(cloudformation, stack_name, progress, sleep, timeout_s, seen)
        if final["StackStatus"] == "DELETE_FAILED":
            raise DeployError(
                f"stack {stack_name} could not be deleted: "
                f"{failure_reason(cloudformation, stack_name)}; fix that resource (or delete "
                f"it in the console), then run `fanoutsim teardown --stack {stack_name}` again"
            )
        removed.append(f"stack {stack_name} ({len(changes)} resources)")
        progress(f"{stack_name}: deleted")
    if bucket is not None:
        objects = empty_and_delete(s3, bucket)
        removed.append(f"bucket {bucket} ({objects} objects)")
        progress(f"bucket {bucket}: deleted with its {objects} objects")
    state.forget(stack_name, region)
    return Teardown(tuple(removed))


def _resources(cloudformation: Any, stack_name: str) -> list[dict[str, Any]]:
    pages = cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack_name)
    return [r for page in pages for r in page["StackResourceSummaries"]]
