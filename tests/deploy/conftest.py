"""The deploy tests' AWS: moto's, in-process, with test credentials and a private state
folder."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from moto import mock_aws

from fanoutsim import stack

REGION = stack.REGION
NAME = "fanoutsim-test"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[list[str]]:
    """moto's whole AWS, test credentials, a private state folder; yields the progress."""
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "FANOUTSIM_STATE_DIR": str(tmp_path / "state"),
    }.items():
        monkeypatch.setenv(key, value)
    with mock_aws(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # moto skips the API Gateway v2 types, and says so
        yield []
