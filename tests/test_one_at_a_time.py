"""One simulator per process: a simulator left open (Run All leaves one up for the widgets)
closes when the interpreter stops, so nothing outlives the kernel."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
from fanoutsim import one_at_a_time
from fanoutsim.simulator import Simulator
sim = Simulator()
sim.clients.add(2)
one_at_a_time._close_at_exit()
print(sim.closed, len(one_at_a_time._open))
"""


def test_open_simulators_close_at_exit() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.split() == ["True", "0"]
