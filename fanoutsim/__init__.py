"""fanoutsim: the API Gateway WebSockets fan-out pattern (Pattern #3), simulated on moto.

Start with :class:`fanoutsim.simulator.Simulator` (live pipeline with real WebSockets) or
:mod:`fanoutsim.model` (virtual-time cost and latency model for large fan-outs).
"""

from __future__ import annotations

__version__ = "0.1.0"
