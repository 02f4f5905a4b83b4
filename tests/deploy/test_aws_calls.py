"""Each failure a user can meet reads as one or two sentences with the command that fixes
it, and every partition's regions are accepted.

AWS page: https://docs.aws.amazon.com/general/latest/gr/apigateway.html (API Gateway's
regions, in the aws, aws-cn and aws-us-gov partitions).
"""

from __future__ import annotations

import boto3
import botocore.exceptions as bx
import pytest

from fanoutsim.deploy import consent
from fanoutsim.deploy.aws_calls import call, session_for, translate
from fanoutsim.deploy.cloudformation import _deployable_status
from fanoutsim.errors import DeployError


def _client_error(code: str, message: str = "no") -> bx.ClientError:
    return bx.ClientError({"Error": {"Code": code, "Message": message}}, "DescribeStacks")


@pytest.mark.parametrize(
    ("error", "says"),
    [
        (bx.UnauthorizedSSOTokenError(), "run `aws sso login --profile"),
        (bx.SSOTokenLoadError(error_msg="expired"), "run `aws sso login --profile"),
        (bx.EndpointConnectionError(endpoint_url="https://x"), "cannot reach AWS"),
        (bx.ConnectTimeoutError(endpoint_url="https://x"), "check the network connection"),
        (_client_error("ThrottlingException"), "wait a minute and run the same command"),
        (_client_error("ExpiredToken"), "Refresh them (`aws sso login`, or new access keys)"),
        (bx.NoCredentialsError(), "no AWS credentials found"),
    ],
    ids=["sso", "sso-load", "network", "timeout", "throttled", "expired", "none"],
)
def test_each_failure_is_a_short_sentence_with_its_fix(error: Exception, says: str) -> None:
    message = str(translate("describing the stack", error))
    assert says in message and "\n" not in message and len(message) < 300


def test_call_turns_any_botocore_failure_into_a_deploy_error() -> None:
    def offline() -> None:
        raise bx.EndpointConnectionError(endpoint_url="https://cloudformation.example")

    with pytest.raises(DeployError, match="cannot reach AWS while listing"):
        call("listing", offline)


@pytest.mark.parametrize("region", ["eu-west-1", "cn-north-1", "us-gov-west-1"])
def test_regions_of_every_partition_are_accepted(region: str) -> None:
    session = boto3.Session(aws_access_key_id="x", aws_secret_access_key="y")
    assert session_for(region, None, session)[1] == region


@pytest.mark.parametrize(
    ("arn", "partition"),
    [
        ("arn:aws:iam::123456789012:user/u", "aws"),
        ("arn:aws-cn:sts::123456789012:assumed-role/r/s", "aws-cn"),
        ("arn:aws-us-gov:iam::123456789012:user/u", "aws-us-gov"),
    ],
)
def test_the_partition_is_read_from_the_callers_arn(arn: str, partition: str) -> None:
    assert consent.partition_of(arn) == partition


@pytest.mark.parametrize(
    ("status", "says"),
    [
        ("ROLLBACK_COMPLETE", "run `fanoutsim teardown --stack s`, then deploy again"),
        ("DELETE_FAILED", "partly deleted (DELETE_FAILED); run `fanoutsim teardown"),
        ("UPDATE_IN_PROGRESS", "busy (UPDATE_IN_PROGRESS): another deploy or teardown"),
    ],
)
def test_a_stack_that_cannot_be_deployed_now_says_what_to_run(status: str, says: str) -> None:
    with pytest.raises(DeployError) as refused:
        _deployable_status("s", {"StackStatus": status})
    assert says in str(refused.value)


def test_a_stack_whose_first_change_set_never_ran_is_created_again() -> None:
    assert _deployable_status("s", {"StackStatus": "REVIEW_IN_PROGRESS"}) is None
    assert _deployable_status("s", {"StackStatus": "UPDATE_COMPLETE"}) == "UPDATE_COMPLETE"
