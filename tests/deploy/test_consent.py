"""Ownership and consent, against moto's CloudFormation and S3: fanoutsim acts only on
stacks it made, shows what it will do first, and does nothing without consent.

AWS pages: https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateChangeSet.html
(a CREATE change set makes the stack, in REVIEW_IN_PROGRESS, before anything runs) and
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-resource-tags.html
(stack tags).
"""

from __future__ import annotations

import json

import boto3
import pytest

from fanoutsim import stack
from fanoutsim.deploy import consent, state
from fanoutsim.deploy.cloudformation import bucket_name, deploy, teardown
from fanoutsim.deploy.template import StackOptions
from fanoutsim.errors import DeployError
from tests.deploy.conftest import NAME, REGION

ACCOUNT = "123456789012"


def _stack(name: str = NAME) -> dict | None:
    found = boto3.client("cloudformation", region_name=REGION).list_stacks()["StackSummaries"]
    live = [s for s in found if s["StackName"] == name and s["StackStatus"] != "DELETE_COMPLETE"]
    return live[0] if live else None


def _buckets() -> set[str]:
    return {b["Name"] for b in boto3.client("s3", region_name=REGION).list_buckets()["Buckets"]}


def test_without_consent_deploy_shows_the_account_changes_and_costs_and_leaves_nothing(
    aws: list[str],
) -> None:
    result = deploy(NAME, REGION, progress=aws.append)
    assert not result.applied and not result.changed
    shown = "\n".join(aws)
    assert f"account {ACCOUNT}, region {REGION} (partition aws)" in shown
    assert "  add      52 resources: 2 ApiGatewayV2::Api," in shown and "3 DynamoDB::Table" in shown
    assert "idle: $0.00 a month" in shown and "one update to 100 subscribers" in shown
    assert aws[-1] == f"{NAME}: not applied: pass confirm=True (or --yes) to go ahead"
    assert _stack() is None  # the empty REVIEW_IN_PROGRESS stack is gone too
    assert bucket_name(NAME, ACCOUNT, REGION) not in _buckets()
    assert state.load(NAME, REGION) == {}


def test_a_person_is_asked_and_no_means_no(aws: list[str]) -> None:
    asked: list[str] = []
    deploy(NAME, REGION, progress=aws.append, confirm=lambda q: asked.append(q) or False)
    assert asked == [f"Apply these changes to {NAME}?"]
    assert _stack() is None
    deploy(NAME, REGION, progress=aws.append, confirm=lambda q: True)
    assert _stack() is not None


def test_what_fanoutsim_makes_carries_its_tag_with_version_and_options(aws: list[str]) -> None:
    result = deploy(NAME, REGION, options=StackOptions(fanout="per-flight"), confirm=True)
    described = boto3.client("cloudformation", region_name=REGION).describe_stacks(StackName=NAME)[
        "Stacks"
    ][0]
    tags = {t["Key"]: t["Value"] for t in described["Tags"]}
    assert tags[consent.MADE_BY].startswith("fanoutsim ")
    assert json.loads(tags["fanoutsim:options"])["fanout"] == "per-flight"
    bucket_tags = boto3.client("s3", region_name=REGION).get_bucket_tagging(Bucket=result.bucket)
    assert {"Key": consent.STACK_TAG, "Value": NAME} in bucket_tags["TagSet"]


def test_a_stack_fanoutsim_did_not_make_is_refused_and_left_intact(aws: list[str]) -> None:
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    theirs = {"Resources": {"Orders": {"Type": "AWS::SQS::Queue"}}}
    cloudformation.create_stack(StackName=NAME, TemplateBody=json.dumps(theirs))
    with pytest.raises(DeployError, match=r"fanoutsim did not make it .* will not change it"):
        deploy(NAME, REGION, progress=aws.append, confirm=True)
    with pytest.raises(DeployError, match="will not delete it"):
        teardown(NAME, REGION, progress=aws.append, confirm=True)
    resources = cloudformation.list_stack_resources(StackName=NAME)["StackResourceSummaries"]
    assert [r["LogicalResourceId"] for r in resources] == ["Orders"]
    assert cloudformation.describe_stacks(StackName=NAME)["Stacks"][0]["StackStatus"] == (
        "CREATE_COMPLETE"
    )


def test_teardown_shows_what_goes_asks_and_finds_the_bucket_by_tag_without_state(
    aws: list[str],
) -> None:
    result = deploy(NAME, REGION, confirm=True, progress=aws.append)
    state.forget(NAME, REGION)  # another machine, or a first deploy that failed half-way
    aws.clear()
    kept = teardown(NAME, REGION, progress=aws.append)
    assert not kept.applied and _stack() is not None
    shown = "\n".join(aws)
    assert "  remove   33 resources: 3 DynamoDB::Table" in shown  # what moto's stack holds
    assert f"  remove   {result.bucket} (the code bucket, not in the stack)" in shown
    removed = teardown(NAME, REGION, progress=aws.append, confirm=True)
    assert removed.applied and _stack() is None and result.bucket not in _buckets()
    assert removed.removed[-1] == f"bucket {result.bucket} (1 objects)"


def test_a_bucket_of_the_same_name_without_the_tags_is_never_deleted(aws: list[str]) -> None:
    name = bucket_name(NAME, ACCOUNT, REGION)
    boto3.client("s3", region_name=REGION).create_bucket(Bucket=name)
    assert not teardown(NAME, REGION, progress=aws.append, confirm=True)
    assert name in _buckets()


def test_an_update_prints_only_its_own_events(aws: list[str]) -> None:
    deploy(NAME, REGION, confirm=True, progress=aws.append)
    assert f"{NAME}: CREATE_COMPLETE" in aws
    aws.clear()
    per_flight = StackOptions(fanout="per-flight")
    deploy(NAME, REGION, options=per_flight, confirm=True, progress=aws.append)
    assert f"{NAME}: CREATE_COMPLETE" not in aws  # the first deploy's, not reprinted
    assert any("UPDATE_COMPLETE" in line for line in aws)


def test_a_first_deploy_interrupted_in_review_is_carried_on(aws: list[str]) -> None:
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    cloudformation.create_change_set(
        StackName=NAME,
        ChangeSetName="interrupted",
        ChangeSetType="CREATE",
        TemplateBody=json.dumps({"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}),
        Tags=consent.tags(NAME),
    )
    result = deploy(NAME, REGION, confirm=True, progress=aws.append)
    assert f"{NAME}: removing the empty stack an interrupted first deploy left" in aws
    assert result.applied and (_stack() or {}).get("StackStatus") == "CREATE_COMPLETE"
    # (moto loses the outputs of a stack made again under a deleted one's name; AWS does not)


def test_the_mapping_starts_at_the_oldest_record(aws: list[str]) -> None:
    deploy(NAME, REGION, confirm=True, progress=aws.append)
    functions = boto3.client("lambda", region_name=REGION)
    (mapping,) = functions.list_event_source_mappings()["EventSourceMappings"]
    assert mapping["StartingPosition"] == "TRIM_HORIZON"
    assert mapping["BatchSize"] == stack.DEFAULT_MAPPING.batch_size
