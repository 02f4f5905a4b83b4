"""One interface, two homes: the same script drives the simulator and a deployed stack (here
one attached to a simulator through its AWS endpoint, the way notebook 07 attaches to AWS)
and both answer alike. mypy checks this module too, so a facade that drifts from
:class:`~fanoutsim.pipeline.Pipeline` fails the build, not a notebook."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

import pytest

from fanoutsim.deploy.remote import DeployedStack
from fanoutsim.pipeline import Pipeline
from fanoutsim.simulator import Simulator
from tests.sample_ids import FS101


@contextmanager
def _local() -> Iterator[Pipeline]:
    with Simulator(fanout="per-flight") as sim:
        yield sim  # mypy: a Simulator is a Pipeline


@contextmanager
def _deployed() -> Iterator[Pipeline]:
    with (
        Simulator(aws_endpoint=True, fanout="per-flight") as sim,
        DeployedStack.of_simulator(sim) as remote,
    ):
        yield remote  # mypy: so is a DeployedStack


def _script(pipeline: Pipeline) -> dict[str, int]:
    """A trainee's first five minutes, in the shared verbs only."""
    pipeline.clients.add(2, flights=["FS101"])
    pipeline.clients.add(1, flights=["FS202"])
    pipeline.flights.load()
    pipeline.flights.publish("FS101", "BOARDING", "Group 1")
    pipeline.wait()
    heard: list[str] = []
    pipeline.on_change(heard.append)
    pipeline.flights.publish("FS202", "DEPARTURE_DELAYED", "20 minutes")
    pipeline.wait(until="delivered", timeout=30)
    pipeline.off_change(heard.append)
    latest = pipeline.flights.latest
    assert latest is not None and pipeline.timeline(latest).per_connection["receipt"]
    assert heard and pipeline.options.fanout == "per-flight"
    return pipeline.delivery_counts()


@pytest.mark.parametrize("home", [_local, _deployed], ids=["simulator", "deployed"])
def test_the_same_script_runs_in_both_homes_with_the_same_answer(
    home: Callable[[], AbstractContextManager[Pipeline]],
) -> None:
    with home() as pipeline:
        assert isinstance(pipeline, Pipeline)
        counts = _script(pipeline)
        boards = {name: client.board for name, client in pipeline.clients.items()}
    assert counts["missing"] == 0 and counts["delivered"] == counts["expected"] > 0
    following = [board for board in boards.values() if FS101 in board]
    assert len(following) == 2 and all(b[FS101]["event"] == "BOARDING" for b in following)
