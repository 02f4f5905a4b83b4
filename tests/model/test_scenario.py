"""The scenario's settings come from the stack where the stack has them."""

from __future__ import annotations

from fanoutsim import stack
from fanoutsim.model.scenario import Scenario


def test_the_model_prices_the_memory_the_stack_runs_with() -> None:
    """One place sets each function's memory: the model reads the stack's."""
    scenario = Scenario(subscribers=10)
    for name, spec in stack.FUNCTIONS.items():
        assert scenario.memory(name) == spec.memory_mb
    assert scenario.memory("fanout_worker") == stack.FUNCTIONS["stream_fanout"].memory_mb
