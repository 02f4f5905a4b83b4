"""deploy() and teardown() against moto's CloudFormation (every resource type moto supports
is created and checked), and against botocore's Stubber for each failure a user can meet.

AWS pages: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-updating-stacks-changesets.html
(change sets; one with no changes fails with "didn't contain changes") and
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/troubleshooting.html
(a stack in ROLLBACK_COMPLETE can only be deleted).
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from fanoutsim import stack
from fanoutsim.deploy import consent, state
from fanoutsim.deploy.cloudformation import bucket_name, deploy, teardown
from fanoutsim.deploy.template import StackOptions
from fanoutsim.errors import DeployError
from tests.deploy.conftest import NAME, REGION


def _deploy(progress: list[str], **options: Any) -> Any:
    return deploy(
        NAME, REGION, options=StackOptions(**options), progress=progress.append, confirm=True
    )


def test_deploy_creates_the_resources_moto_supports(aws: list[str]) -> None:
    result = _deploy(aws, fanout="per-flight", authorizer=True)
    assert result.changed and result.created_bucket
    assert result.bucket == bucket_name(NAME, "123456789012", REGION)
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    resources = {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in cloudformation.list_stack_resources(StackName=NAME)["StackResourceSummaries"]
        if r["LogicalResourceId"]
    }
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    flights = dynamodb.describe_table(TableName=resources["FlightsTable"])["Table"]
    assert flights["StreamSpecification"]["StreamViewType"] == "NEW_IMAGE"
    # moto's CloudFormation ignores TimeToLiveSpecification (and skips API Gateway v2):
    # tests/deploy/test_template.py checks those in the template itself.
    lambda_ = boto3.client("lambda", region_name=REGION)
    fanout = lambda_.get_function_configuration(FunctionName=resources["StreamFanoutFunction"])
    assert (fanout["Runtime"], fanout["MemorySize"], fanout["Timeout"]) == ("python3.12", 256, 30)
    assert fanout["Environment"]["Variables"]["FANOUT_MODE"] == "per-flight"
    assert (
        fanout["Environment"]["Variables"]["SUBSCRIPTIONS_TABLE"] == resources["SubscriptionsTable"]
    )
    mapping = lambda_.list_event_source_mappings(FunctionName=resources["StreamFanoutFunction"])
    (esm,) = mapping["EventSourceMappings"]
    assert esm["BatchSize"] == stack.DEFAULT_MAPPING.batch_size
    assert esm["EventSourceArn"] == flights["LatestStreamArn"]
    events = boto3.client("events", region_name=REGION)
    bus = f"{NAME}-{stack.BUS}"
    (rule,) = events.list_rules(EventBusName=bus)["Rules"]
    assert json.loads(rule["EventPattern"]) == stack.RULE_PATTERN
    targets = events.list_targets_by_rule(Rule=rule["Name"], EventBusName=bus)["Targets"]
    assert targets[0]["Arn"].endswith(resources["FlightEventsFunction"])
    iam = boto3.client("iam", region_name=REGION)
    policy = iam.get_role_policy(
        RoleName=resources["StreamFanoutRole"], PolicyName="stream_fanout-calls"
    )
    document = policy["PolicyDocument"]
    if isinstance(document, str):  # moto hands it back as Python's text of the dict
        document = ast.literal_eval(document)
    actions = {a for s in document["Statement"] for a in s["Action"]}
    assert "execute-api:ManageConnections" in actions and "dynamodb:PutItem" not in actions
    groups = boto3.client("logs", region_name=REGION).describe_log_groups()["logGroups"]
    assert {g["retentionInDays"] for g in groups if NAME in g["logGroupName"]} == {7}
    s3 = boto3.client("s3", region_name=REGION)
    assert s3.head_object(Bucket=result.bucket, Key=result.code_key)["ContentLength"] > 10_000
    saved = state.load(NAME, REGION)
    assert saved["auth_secret"] == result.auth_secret and len(result.auth_secret) >= 32
    assert oct(state.path_of(NAME, REGION).stat().st_mode & 0o777) == "0o600"


def test_second_deploy_is_no_changes_and_a_new_option_is_an_update(aws: list[str]) -> None:
    first = _deploy(aws)
    again = _deploy(aws)
    assert not again.changed and f"{NAME}: no changes" in aws
    assert again.code_key == first.code_key
    changed = _deploy(aws, fanout="per-flight")
    assert changed.changed
    function = boto3.client("cloudformation", region_name=REGION).describe_stack_resource(
        StackName=NAME, LogicalResourceId="StreamFanoutFunction"
    )["StackResourceDetail"]["PhysicalResourceId"]
    config = boto3.client("lambda", region_name=REGION).get_function_configuration(
        FunctionName=function
    )
    assert config["Environment"]["Variables"]["FANOUT_MODE"] == "per-flight"


def test_teardown_deletes_the_stack_and_its_bucket_and_can_run_twice(aws: list[str]) -> None:
    result = _deploy(aws)
    assert teardown(NAME, REGION, progress=aws.append, confirm=True)
    assert f"{NAME}: deleted" in aws
    stacks = boto3.client("cloudformation", region_name=REGION).list_stacks()["StackSummaries"]
    assert {s["StackStatus"] for s in stacks if s["StackName"] == NAME} == {"DELETE_COMPLETE"}
    buckets = boto3.client("s3", region_name=REGION).list_buckets()["Buckets"]
    assert result.bucket not in {b["Name"] for b in buckets}
    assert state.load(NAME, REGION) == {}
    assert not teardown(NAME, REGION, progress=aws.append, confirm=True)


def test_a_given_bucket_is_used_and_never_deleted(aws: list[str]) -> None:
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="my-code")
    result = deploy(NAME, REGION, bucket="my-code", progress=aws.append, confirm=True)
    assert (result.bucket, result.created_bucket) == ("my-code", False)
    teardown(NAME, REGION, progress=aws.append, confirm=True)
    assert "my-code" in {b["Name"] for b in s3.list_buckets()["Buckets"]}
    with pytest.raises(DeployError, match="bucket missing-bucket cannot be used"):
        deploy(NAME, REGION, bucket="missing-bucket", progress=aws.append)


# ----------------------------------------------------------------- failures, stubbed
class StubbedSession:
    """A boto3 session whose clients answer from Stubbers (nothing is sent)."""

    region_name = REGION

    def __init__(self) -> None:
        self._real = boto3.Session(
            aws_access_key_id="x", aws_secret_access_key="y", region_name=REGION
        )
        self.clients: dict[str, Any] = {}
        self.stubs: dict[str, Stubber] = {}

    def stub(self, service: str) -> Stubber:
        client = self._real.client(service, region_name=REGION)
        self.clients[service] = client
        self.stubs[service] = Stubber(client)
        self.stubs[service].activate()
        return self.stubs[service]

    def client(self, service: str, **_: Any) -> Any:
        return self.clients.get(service) or self.stub(service)

    def get_available_partitions(self) -> list[str]:
        return list(self._real.get_available_partitions())

    def get_available_regions(self, service: str, partition_name: str = "aws") -> list[str]:
        return list(self._real.get_available_regions(service, partition_name=partition_name))


def _ready_to_upload(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Stubber]:
    """A session whose credentials, bucket and upload succeed; its CloudFormation stub."""
    monkeypatch.setenv("FANOUTSIM_STATE_DIR", str(tmp_path))
    session = StubbedSession()
    _identity(session)
    s3 = session.stub("s3")
    s3.add_response("head_bucket", {})
    s3.add_response("put_object", {})
    return session, session.stub("cloudformation")


#: The tags of a stack fanoutsim made.
OURS = [{"Key": consent.MADE_BY, "Value": "fanoutsim 0.1.0"}]


def _identity(session: StubbedSession) -> None:
    session.stub("sts").add_response(
        "get_caller_identity",
        {"Account": "123456789012", "Arn": "arn:aws:iam::1:user/u", "UserId": "u"},
    )


def test_no_credentials_is_a_sentence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(DeployError, match="no AWS credentials found"):
        deploy(NAME, REGION, progress=lambda _: None)


def test_unknown_profile_and_unsupported_region(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    with pytest.raises(DeployError, match="no AWS profile named 'nobody'"):
        deploy(NAME, REGION, "nobody")
    with pytest.raises(DeployError, match="region 'mars-north-1' is not one"):
        deploy(NAME, "mars-north-1", session=StubbedSession())
    with pytest.raises(DeployError, match="must start with a letter"):
        deploy("1-bad name", REGION, session=StubbedSession())


def test_rollback_complete_says_to_tear_down(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FANOUTSIM_STATE_DIR", str(tmp_path))
    session = StubbedSession()
    _identity(session)
    session.stub("s3")
    session.stub("cloudformation").add_response(
        "describe_stacks",
        {
            "Stacks": [
                {
                    "StackName": NAME,
                    "StackStatus": "ROLLBACK_COMPLETE",
                    "CreationTime": "2026-01-01",
                    "Tags": OURS,
                }
            ]
        },
    )
    with pytest.raises(DeployError, match=r"ROLLBACK_COMPLETE: .* run `fanoutsim teardown"):
        deploy(NAME, REGION, session=session)


def test_a_missing_permission_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FANOUTSIM_STATE_DIR", str(tmp_path))
    session = StubbedSession()
    session.stub("sts").add_client_error(
        "get_caller_identity",
        "AccessDenied",
        "User: arn:aws:iam::1:user/u is not authorized to perform: sts:GetCallerIdentity",
    )
    with pytest.raises(DeployError, match=r"missing permission sts:GetCallerIdentity"):
        deploy(NAME, REGION, session=session)
    session = StubbedSession()
    _identity(session)
    session.stub("cloudformation").add_client_error(
        "describe_stacks",
        "AccessDenied",
        "User: arn:aws:iam::1:user/u is not authorized to perform: "
        "cloudformation:DescribeStacks on resource",
    )
    with pytest.raises(DeployError, match=r"missing permission cloudformation:DescribeStacks"):
        deploy(NAME, REGION, session=session)


def test_a_failed_creation_names_the_resource(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    session, cfn = _ready_to_upload(tmp_path, monkeypatch)
    cfn.add_client_error(
        "describe_stacks", "ValidationError", f"Stack with id {NAME} does not exist"
    )
    cfn.add_response("create_change_set", {"Id": "cs", "StackId": "sid"})
    cfn.add_response("describe_change_set", {"Status": "CREATE_COMPLETE", "ChangeSetName": "cs"})
    cfn.add_response("describe_stack_events", {"StackEvents": []})
    cfn.add_response("execute_change_set", {})
    stacks = {
        "Stacks": [
            {"StackName": NAME, "StackStatus": "ROLLBACK_COMPLETE", "CreationTime": "2026-01-01"}
        ]
    }
    cfn.add_response("describe_stacks", stacks)
    failed = {
        "EventId": "e1",
        "StackId": "sid",
        "StackName": NAME,
        "LogicalResourceId": "StreamFanoutRole",
        "ResourceStatus": "CREATE_FAILED",
        "ResourceStatusReason": (
            "API: iam:CreateRole User: u is not authorized to perform: iam:CreateRole"
        ),
        "Timestamp": "2026-01-01",
    }
    cfn.add_response("describe_stack_events", {"StackEvents": [failed]})
    cfn.add_response("describe_stack_events", {"StackEvents": [failed]})
    with pytest.raises(
        DeployError,
        match="ended ROLLBACK_COMPLETE: StreamFanoutRole: missing permission iam:CreateRole",
    ):
        deploy(NAME, REGION, session=session, progress=lambda _: None, confirm=True)


def test_change_set_with_no_changes_is_success(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    session, cfn = _ready_to_upload(tmp_path, monkeypatch)
    live = {
        "Stacks": [
            {
                "StackName": NAME,
                "StackStatus": "UPDATE_COMPLETE",
                "CreationTime": "2026-01-01",
                "Tags": OURS,
                "Outputs": [{"OutputKey": "FanoutMode", "OutputValue": "broadcast"}],
            }
        ]
    }
    cfn.add_response("describe_stacks", live)
    cfn.add_response("get_template", {"TemplateBody": "{}"})  # differs: a change set is made
    cfn.add_response("create_change_set", {"Id": "cs", "StackId": "sid"})
    reason = (
        "The submitted information didn't contain changes. "
        "Submit different information to create a change set."
    )
    cfn.add_response(
        "describe_change_set", {"Status": "FAILED", "StatusReason": reason, "ChangeSetName": "cs"}
    )
    cfn.add_response("delete_change_set", {})
    cfn.add_response("describe_stacks", live)
    progress: list[str] = []
    result = deploy(NAME, REGION, session=session, progress=progress.append)
    assert not result.changed and result.outputs == {"FanoutMode": "broadcast"}
    assert progress == [f"{NAME}: no changes", "FanoutMode = broadcast"]
