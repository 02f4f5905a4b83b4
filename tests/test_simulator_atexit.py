"""A simulator left open (Run All leaves one up for the widgets) closes when the interpreter
stops: nothing outlives the kernel."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import fanoutsim.simulator as module
sim = module.Simulator()
sim.add_clients(2)
module._close_open_simulators()
print(sim.closed, len(module._active))
"""


def test_open_simulators_close_at_exit() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.split() == ["True", "0"]
