"""The stack's code bucket: one per stack, private, tagged as fanoutsim's and the stack's,
so teardown deletes only its own and finds it by its tags when the state file is gone."""

from __future__ import annotations

import hashlib
from typing import Any

from fanoutsim.deploy import consent
from fanoutsim.deploy.aws_calls import call
from fanoutsim.errors import DeployError

__all__ = ["bucket_exists", "bucket_name", "empty_and_delete", "make_bucket", "own_bucket_of"]


def bucket_name(stack_name: str, account: str, region: str) -> str:
    """The stack's own code bucket: one per stack, so teardown deletes only its own."""
    name = f"fanoutsim-{account}-{region}-{stack_name.lower()}"
    if len(name) > 63:  # S3's limit: name by a digest of the stack's name instead
        name = (
            f"fanoutsim-{account}-{region}-{hashlib.sha256(stack_name.encode()).hexdigest()[:12]}"
        )
    return name


def bucket_exists(s3: Any, name: str) -> bool:
    import botocore.exceptions

    try:
        s3.head_bucket(Bucket=name)
        return True
    except botocore.exceptions.ClientError as error:
        if error.response["Error"]["Code"] not in ("404", "NoSuchBucket"):
            raise DeployError(f"bucket {name} cannot be used: {error}") from error
        return False


def make_bucket(s3: Any, name: str, region: str, stack_name: str) -> None:
    """The stack's own code bucket: private, tagged as fanoutsim's and the stack's."""
    kwargs: dict[str, Any] = {"Bucket": name}
    if region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
    call("creating the code bucket", s3.create_bucket, **kwargs)
    call(
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
    call(
        "tagging the code bucket",
        s3.put_bucket_tagging,
        Bucket=name,
        Tagging={"TagSet": consent.tags(stack_name)},
    )


def own_bucket_of(s3: Any, stack_name: str, account: str, region: str) -> str | None:
    """The code bucket fanoutsim made for ``stack_name``, found by its tags (None if none)."""
    import botocore.exceptions

    name = bucket_name(stack_name, account, region)
    try:
        found = s3.get_bucket_tagging(Bucket=name)["TagSet"]
    except botocore.exceptions.ClientError:
        return None  # no such bucket, or no tags: not one fanoutsim made
    mine = {"Key": consent.STACK_TAG, "Value": stack_name} in found
    return name if mine and consent.made_by_fanoutsim(found) else None


def empty_and_delete(s3: Any, bucket: str) -> int:
    """Empty and delete ``bucket``; how many objects it held (0 if it was already gone)."""
    import botocore.exceptions

    count = 0
    try:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if keys:
                call(
                    "emptying the bucket",
                    s3.delete_objects,
                    Bucket=bucket,
                    Delete={"Objects": keys},
                )
                count += len(keys)
        call("deleting the bucket", s3.delete_bucket, Bucket=bucket)
    except botocore.exceptions.ClientError as error:
        if error.response["Error"]["Code"] != "NoSuchBucket":
            raise
    return count
