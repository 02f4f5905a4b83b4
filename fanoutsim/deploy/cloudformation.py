"""Deploy and tear down the real stack with CloudFormation change sets (the only module
here that changes an AWS account, and only when called).

``deploy`` packages the functions, uploads the zip to an S3 bucket (its own, created on
first use, or one it is given), creates or updates the stack through a change set ("no
changes" is success), waits with progress and returns the outputs. ``teardown`` deletes
the stack and, if ``deploy`` created the bucket, empties and deletes it. Both can run
twice. What ``deploy`` needs later (outputs, the authorizer's secret, the bucket) is kept
in a small state file, so ``teardown`` and ``calibrate`` need only the stack's name.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Final

from fanoutsim.deploy import state
from fanoutsim.deploy.package import build_package
from fanoutsim.deploy.template import StackOptions, build_template, functions_of
from fanoutsim.errors import DeployError

__all__ = ["Deployment", "bucket_name", "deploy", "teardown"]

_STACK_NAME: Final = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,63}")
_BUSY: Final = ("_IN_PROGRESS",)
_DONE: Final = ("CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE")
_NO_CHANGES: Final = ("didn't contain changes", "No updates are to be performed")
_DENIED: Final = re.compile(r"not authorized to perform: ([A-Za-z0-9-]+:[A-Za-z0-9]+)")
_TEMPLATE_BODY_LIMIT: Final = 51_200  # bytes CloudFormation takes inline


@dataclass
class Deployment:
    """A deployed stack: where it is, its outputs, and what deploy created for it."""

    stack_name: str
    region: str
    outputs: dict[str, str]
    bucket: str
    code_key: str
    created_bucket: bool = False
    auth_secret: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    changed: bool = True


def _check_name(stack_name: str) -> None:
    if not _STACK_NAME.fullmatch(stack_name):
        raise DeployError(
            f"stack name {stack_name!r} must start with a letter and hold only letters, "
            "digits and hyphens (at most 64)"
        )


def _session(region: str | None, profile: str | None, session: Any) -> Any:
    """A boto3 session for ``region`` (checked against the regions API Gateway v2 is in)."""
    import boto3
    import botocore.exceptions

    if session is None:
        try:
            session = boto3.Session(profile_name=profile, region_name=region)
        except botocore.exceptions.ProfileNotFound as error:
            raise DeployError(f"no AWS profile named {profile!r} ({error})") from error
    chosen = region or session.region_name
    if not chosen:
        raise DeployError("no region: pass region=... (or --region), or set AWS_REGION")
    if chosen not in session.get_available_regions("apigatewayv2"):
        raise DeployError(f"region {chosen!r} is not one where API Gateway WebSocket APIs run")
    return session, chosen


def _translate(what: str, error: Exception) -> DeployError:
    """A plain sentence for an AWS failure: no credentials, refused credentials, a missing
    permission (named), or the service's own code and message."""
    import botocore.exceptions

    if isinstance(error, botocore.exceptions.NoCredentialsError):
        return DeployError(
            "no AWS credentials found: set AWS_PROFILE, or run `aws configure`, or pass profile=..."
        )
    if not isinstance(error, botocore.exceptions.ClientError):
        return DeployError(f"{what} failed: {error}")
    message = str(error.response.get("Error", {}).get("Message", error))
    denied = _DENIED.search(message)
    if denied:
        return DeployError(f"missing permission {denied.group(1)} (while {what})")
    code = error.response.get("Error", {}).get("Code", "")
    if code in ("InvalidClientTokenId", "ExpiredToken", "UnrecognizedClientException"):
        return DeployError(f"the AWS credentials were refused ({code}): {message}")
    return DeployError(f"{what} failed: {code}: {message}")


def _call(what: str, call: Callable[..., Any], **kwargs: Any) -> Any:
    """Make one AWS call; a failure becomes a :class:`DeployError` saying why."""
    import botocore.exceptions

    try:
        return call(**kwargs)
    except (botocore.exceptions.NoCredentialsError, botocore.exceptions.ClientError) as error:
        raise _translate(what, error) from error


def _stack_status(cloudformation: Any, stack_name: str) -> dict[str, Any] | None:
    import botocore.exceptions

    try:
        stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except (botocore.exceptions.NoCredentialsError, botocore.exceptions.ClientError) as error:
        if "does not exist" in str(error):
            return None
        raise _translate("describing the stack", error) from error
    return dict(stacks[0]) if stacks else None


def bucket_name(stack_name: str, account: str, region: str) -> str:
    """The stack's own code bucket: one per stack, so teardown deletes only its own."""
    name = f"fanoutsim-{account}-{region}-{stack_name.lower()}"
    if len(name) > 63:  # S3's limit: name by a digest of the stack's name instead
        name = (
            f"fanoutsim-{account}-{region}-{hashlib.sha256(stack_name.encode()).hexdigest()[:12]}"
        )
    return name


def _ensure_bucket(s3: Any, given: str | None, own: str, region: str) -> tuple[str, bool]:
    """The code bucket: the one given (it must exist), or the stack's own (created
    private on first use, and deleted by teardown); True when it is the stack's own."""
    import botocore.exceptions

    name = given or own
    try:
        s3.head_bucket(Bucket=name)
        return name, given is None
    except botocore.exceptions.ClientError as error:
        if given is not None or error.response["Error"]["Code"] not in ("404", "NoSuchBucket"):
            raise DeployError(f"bucket {name} cannot be used: {error}") from error
    kwargs: dict[str, Any] = {"Bucket": name}
    if region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
    _call("creating the code bucket", s3.create_bucket, **kwargs)
    _call(
        "making the code bucket private",
        s3.put_public_access_block,
        Bucket=name,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    return name, True


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


def _wait(
    cloudformation: Any,
    stack_name: str,
    progress: Callable[[str], None],
    sleep: Callable[[float], None],
    timeout_s: float,
) -> dict[str, Any]:
    """Poll the stack until it stops changing; print each resource event once."""
    seen: set[str] = set()
    deadline = time.monotonic() + timeout_s
    while True:
        described = _stack_status(cloudformation, stack_name)
        if described is None:  # a deleted stack is no longer found by its name
            return {"StackStatus": "DELETE_COMPLETE"}
        events = cloudformation.describe_stack_events(StackName=stack_name)["StackEvents"]
        for event in reversed(events):
            if event["EventId"] not in seen:
                seen.add(event["EventId"])
                reason = event.get("ResourceStatusReason")
                progress(
                    f"{event['LogicalResourceId']}: {event['ResourceStatus']}"
                    + (f" ({reason})" if reason else "")
                )
        status = described["StackStatus"]
        if not any(status.endswith(b) for b in _BUSY):
            return described
        if time.monotonic() > deadline:
            raise DeployError(f"stack {stack_name} still {status} after {timeout_s:.0f} s")
        sleep(5.0)


def _failure_reason(cloudformation: Any, stack_name: str) -> str:
    events = cloudformation.describe_stack_events(StackName=stack_name)["StackEvents"]
    for event in reversed(events):
        if event["ResourceStatus"].endswith("_FAILED"):
            reason = str(event.get("ResourceStatusReason", ""))
            denied = _DENIED.search(reason)
            if denied:
                return f"{event['LogicalResourceId']}: missing permission {denied.group(1)}"
            return f"{event['LogicalResourceId']}: {reason}"
    return "no resource reported a failure"


def deploy(
    stack_name: str,
    region: str | None = None,
    profile: str | None = None,
    *,
    options: StackOptions | None = None,
    bucket: str | None = None,
    session: Any = None,
    progress: Callable[[str], None] = print,
    sleep: Callable[[float], None] = time.sleep,
    timeout_s: float = 1800.0,
) -> Deployment:
    """Create or update ``stack_name``; return its outputs (printed too)."""
    _check_name(stack_name)
    options = options or StackOptions()
    session, region = _session(region, profile, session)
    sts, s3 = session.client("sts", region_name=region), session.client("s3", region_name=region)
    cloudformation = session.client("cloudformation", region_name=region)
    account = _call("checking the credentials", sts.get_caller_identity)["Account"]
    existing = _stack_status(cloudformation, stack_name)
    status = existing["StackStatus"] if existing else None
    if status == "ROLLBACK_COMPLETE":
        raise DeployError(
            f"stack {stack_name} is in ROLLBACK_COMPLETE: its first creation failed and it "
            "cannot be updated; run teardown, then deploy again"
        )
    if status is not None and any(status.endswith(b) for b in _BUSY):
        raise DeployError(f"stack {stack_name} is busy ({status}); wait and try again")
    previous = state.load(stack_name, region)
    given = bucket or (None if previous.get("created_bucket", True) else previous.get("bucket"))
    code_bucket, created = _ensure_bucket(
        s3, given, bucket_name(stack_name, account, region), region
    )
    package = build_package(functions_of(options))
    _call(
        "uploading the functions",
        s3.put_object,
        Bucket=code_bucket,
        Key=package.key,
        Body=package.data,
    )
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
        stack_name, region, {}, code_bucket, package.key, created, secret, asdict(options)
    )
    if status is not None and _unchanged(cloudformation, stack_name, body, parameters):
        progress(f"{stack_name}: no changes")
        result.changed = False
    else:
        change_set = f"fanoutsim-{int(time.time())}"
        _call(
            "creating the change set",
            cloudformation.create_change_set,
            StackName=stack_name,
            ChangeSetName=change_set,
            ChangeSetType="UPDATE" if status else "CREATE",
            TemplateBody=body,
            Parameters=parameters,
            Capabilities=["CAPABILITY_IAM"],
        )
        described = _wait_change_set(cloudformation, stack_name, change_set, sleep, timeout_s)
        if described["Status"] == "FAILED":
            reason = str(described.get("StatusReason", ""))
            if not any(text in reason for text in _NO_CHANGES):
                raise DeployError(f"change set failed: {reason}")
            cloudformation.delete_change_set(StackName=stack_name, ChangeSetName=change_set)
            progress(f"{stack_name}: no changes")
            result.changed = False
        else:
            _call(
                "executing the change set",
                cloudformation.execute_change_set,
                StackName=stack_name,
                ChangeSetName=change_set,
            )
            final = _wait(cloudformation, stack_name, progress, sleep, timeout_s)
            if final["StackStatus"] not in _DONE:
                raise DeployError(
                    f"stack {stack_name} ended {final['StackStatus']}: "
                    f"{_failure_reason(cloudformation, stack_name)}"
                )
    described_stack = _stack_status(cloudformation, stack_name) or {}
    result.outputs = {o["OutputKey"]: o["OutputValue"] for o in described_stack.get("Outputs", [])}
    state.save(stack_name, region, asdict(result))
    for key, value in sorted(result.outputs.items()):
        progress(f"{key} = {value}")
    return result


def _wait_change_set(
    cloudformation: Any,
    stack_name: str,
    change_set: str,
    sleep: Callable[[float], None],
    timeout_s: float,
) -> Mapping[str, Any]:
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


def teardown(
    stack_name: str,
    region: str | None = None,
    profile: str | None = None,
    *,
    session: Any = None,
    progress: Callable[[str], None] = print,
    sleep: Callable[[float], None] = time.sleep,
    timeout_s: float = 1800.0,
) -> bool:
    """Delete ``stack_name`` and the bucket deploy created; False if nothing was there."""
    _check_name(stack_name)
    session, region = _session(region, profile, session)
    cloudformation = session.client("cloudformation", region_name=region)
    remembered = state.load(stack_name, region)
    existing = _stack_status(cloudformation, stack_name)
    if existing is not None:
        _call("deleting the stack", cloudformation.delete_stack, StackName=stack_name)
        final = _wait(cloudformation, stack_name, progress, sleep, timeout_s)
        if final["StackStatus"] == "DELETE_FAILED":
            raise DeployError(
                f"stack {stack_name} could not be deleted: "
                f"{_failure_reason(cloudformation, stack_name)}"
            )
        progress(f"{stack_name}: deleted")
    if remembered.get("created_bucket"):
        _empty_and_delete(session.client("s3", region_name=region), remembered["bucket"])
        progress(f"bucket {remembered['bucket']}: deleted")
    state.forget(stack_name, region)
    return existing is not None or bool(remembered)


def _empty_and_delete(s3: Any, bucket: str) -> None:
    import botocore.exceptions

    try:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if keys:
                _call(
                    "emptying the bucket",
                    s3.delete_objects,
                    Bucket=bucket,
                    Delete={"Objects": keys},
                )
        _call("deleting the bucket", s3.delete_bucket, Bucket=bucket)
    except botocore.exceptions.ClientError as error:
        if error.response["Error"]["Code"] != "NoSuchBucket":
            raise
