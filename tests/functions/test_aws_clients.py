from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from fanoutsim.functions import aws_clients


class _SlowResource:
    """Stands in for ``boto3.resource``: slow to build, as loading service models is."""

    def __init__(self) -> None:
        self.builds = 0

    def __call__(self, service: str) -> Any:
        self.builds += 1
        time.sleep(0.05)
        return self

    def Table(self, name: str) -> tuple[str, int]:
        return (name, self.builds)


def test_workers_asking_at_once_share_one_build(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _SlowResource()
    monkeypatch.setattr(aws_clients.boto3, "resource", fake)
    monkeypatch.setenv("CONNECTIONS_TABLE", "connections")
    aws_clients.reset()
    got: list[Any] = []
    start = threading.Barrier(16)

    def worker() -> None:
        start.wait()
        got.append(aws_clients.table("CONNECTIONS_TABLE"))

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    aws_clients.reset()
    assert fake.builds == 1
    assert got == [("connections", 1)] * 16
