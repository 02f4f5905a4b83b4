"""Shared fixtures: a moto account with the stack's tables, and the simulator."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from fanoutsim import stack


@pytest.fixture
def aws_tables(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """moto with both tables created and the handlers' environment set; yields the client."""
    for key, value in stack.base_environment(stack.REGION).items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name=stack.REGION)
        stack.create_tables(dynamodb)
        yield dynamodb


@pytest.fixture
def sim() -> Iterator[Any]:
    """A running simulator with the default (instant) profile and HTTP transport."""
    from fanoutsim.simulator import Simulator

    with Simulator() as simulator:
        yield simulator


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("AWS_DEFAULT_REGION", stack.REGION)
