"""AWS calls for deploy and teardown, whose failures read as sentences with the command that
fixes them: no credentials, an SSO session not logged in, refused keys, a missing
permission (named), throttling, no network, a region without WebSocket APIs in any
partition. Nothing here changes an account; :mod:`fanoutsim.deploy.cloudformation` does.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Final

from fanoutsim.errors import DeployError

__all__ = ["call", "failure_reason", "session_for", "stack_status", "translate"]

_DENIED: Final = re.compile(r"not authorized to perform: ([A-Za-z0-9-]+:[A-Za-z0-9]+)")
_REFUSED: Final = ("InvalidClientTokenId", "ExpiredToken", "ExpiredTokenException")
_REFUSED_TOO: Final = ("UnrecognizedClientException", "SignatureDoesNotMatch")
_THROTTLED: Final = ("Throttling", "ThrottlingException", "TooManyRequestsException")


def session_for(region: str | None, profile: str | None, session: Any) -> tuple[Any, str]:
    """A boto3 session and the region to use, checked against the regions API Gateway
    WebSocket APIs run in, in every partition (``aws``, ``aws-cn``, ``aws-us-gov``, ...)."""
    import boto3
    import botocore.exceptions

    if session is None:
        try:
            session = boto3.Session(profile_name=profile, region_name=region)
        except botocore.exceptions.ProfileNotFound as error:
            raise DeployError(
                f"no AWS profile named {profile!r}: `aws configure list-profiles` lists them"
            ) from error
    chosen = region or session.region_name
    if not chosen:
        raise DeployError("no region: pass region=... (or --region), or set AWS_REGION")
    regions = {
        name
        for partition in session.get_available_partitions()
        for name in session.get_available_regions("apigatewayv2", partition_name=partition)
    }
    if chosen not in regions:
        raise DeployError(f"region {chosen!r} is not one where API Gateway WebSocket APIs run")
    return session, chosen


def translate(what: str, error: Exception) -> DeployError:
    """A plain sentence for an AWS failure met while doing ``what``."""
    import botocore.exceptions as bx

    if isinstance(error, bx.NoCredentialsError):
        return DeployError(
            "no AWS credentials found: set AWS_PROFILE, or run `aws configure`, or pass profile=..."
        )
    if isinstance(error, bx.SSOError | bx.TokenRetrievalError):
        return DeployError(
            "the AWS SSO session is not logged in or has expired: run `aws sso login "
            "--profile <your profile>`, then the same command again"
        )
    if isinstance(error, bx.EndpointConnectionError | bx.ConnectTimeoutError | bx.ReadTimeoutError):
        return DeployError(
            f"cannot reach AWS while {what} ({type(error).__name__}): check the network "
            "connection (and HTTPS_PROXY, if you use one), then run the same command again"
        )
    if not isinstance(error, bx.ClientError):
        return DeployError(f"{what} failed: {error}")
    message = str(error.response.get("Error", {}).get("Message", error))
    denied = _DENIED.search(message)
    if denied:
        return DeployError(f"missing permission {denied.group(1)} (while {what})")
    code = str(error.response.get("Error", {}).get("Code", ""))
    if code in _REFUSED or code in _REFUSED_TOO:
        return DeployError(
            f"the AWS credentials were refused ({code}): {message}. Refresh them "
            "(`aws sso login`, or new access keys), then run the same command again"
        )
    if code in _THROTTLED:
        return DeployError(
            f"AWS throttled the calls while {what} ({code}): wait a minute and run the same "
            "command again (it carries on where it stopped)"
        )
    return DeployError(f"{what} failed: {code}: {message}")


def call(what: str, method: Callable[..., Any], **kwargs: Any) -> Any:
    """Make one AWS call; a failure becomes a :class:`DeployError` saying why."""
    import botocore.exceptions

    try:
        return method(**kwargs)
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
        raise translate(what, error) from error


def stack_status(cloudformation: Any, stack_name: str) -> dict[str, Any] | None:
    """``DescribeStacks`` for one stack, or None when there is none by that name."""
    import botocore.exceptions

    try:
        stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
        if "does not exist" in str(error):
            return None
        raise translate("describing the stack", error) from error
    return dict(stacks[0]) if stacks else None


def failure_reason(cloudformation: Any, stack_name: str) -> str:
    """The first resource that failed in the stack's latest events, and why."""
    events = cloudformation.describe_stack_events(StackName=stack_name)["StackEvents"]
    for event in reversed(events):
        if event["ResourceStatus"].endswith("_FAILED"):
            reason = str(event.get("ResourceStatusReason", ""))
            denied = _DENIED.search(reason)
            if denied:
                return f"{event['LogicalResourceId']}: missing permission {denied.group(1)}"
            return f"{event['LogicalResourceId']}: {reason}"
    return "no resource reported a failure"
