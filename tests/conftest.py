"""Shared fixtures: a moto account with the stack's tables (and bus), and the simulator."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from hypothesis import settings

from fanoutsim import provision, stack
from fanoutsim.moto.account import MotoAccount

# CI replays the same examples on every run, so a red build always means a change broke
# something; a laptop keeps exploring new examples (and saves what it finds in
# .hypothesis/ to replay).
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture
def account() -> Iterator[MotoAccount]:
    """moto's account with both tables and the bus created, the handlers' environment set."""
    moto_account = MotoAccount(stack.REGION)
    try:
        provision.create_tables(boto3.client("dynamodb", region_name=stack.REGION))
        provision.create_bus(boto3.client("events", region_name=stack.REGION), stack.REGION)
        yield moto_account
    finally:
        moto_account.stop()


@pytest.fixture
def aws_tables(account: MotoAccount) -> Any:
    """The account's DynamoDB client (tables created)."""
    return boto3.client("dynamodb", region_name=stack.REGION)


@pytest.fixture
def sim() -> Iterator[Any]:
    """A running simulator with the default (instant) profile and HTTP transport."""
    from fanoutsim.simulator import Simulator

    with Simulator() as simulator:
        yield simulator


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("AWS_DEFAULT_REGION", stack.REGION)
