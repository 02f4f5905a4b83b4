"""fanoutsim: the API Gateway WebSockets fan-out pattern (Pattern #3), simulated on moto.

Start with :class:`Simulator` (the live pipeline with real WebSockets) or :func:`simulate`
with a :class:`Scenario` (the virtual-time cost and latency model for large fan-outs);
:func:`compare` sets Pattern #3 against the seed's other push patterns.
Every error fanoutsim raises on purpose is a :class:`FanoutsimError`.

The heavy entry points are imported on first use: the Lambda handlers in
:mod:`fanoutsim.functions` import this package too, and must not load moto or numpy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fanoutsim.errors import ConnectRejected, DeliveryTimeout, FanoutsimError, SimulatorError

if TYPE_CHECKING:
    from fanoutsim.aws.lambda_functions import FunctionCode
    from fanoutsim.model.compare import Comparison, compare
    from fanoutsim.model.engine import simulate
    from fanoutsim.model.result import ModelResult
    from fanoutsim.model.scenario import Scenario
    from fanoutsim.pipeline import Pipeline
    from fanoutsim.report import Report
    from fanoutsim.simulator import Simulator

__version__ = "0.1.0"

__all__ = [
    "Comparison",
    "ConnectRejected",
    "DeliveryTimeout",
    "FanoutsimError",
    "FunctionCode",
    "ModelResult",
    "Pipeline",
    "Report",
    "Scenario",
    "Simulator",
    "SimulatorError",
    "__version__",
    "compare",
    "simulate",
]

_LAZY = {
    "Simulator": "fanoutsim.simulator",
    "Pipeline": "fanoutsim.pipeline",
    "Report": "fanoutsim.report",
    "simulate": "fanoutsim.model.engine",
    "compare": "fanoutsim.model.compare",
    "FunctionCode": "fanoutsim.aws.lambda_functions",
    "Comparison": "fanoutsim.model.compare",
    "Scenario": "fanoutsim.model.scenario",
    "ModelResult": "fanoutsim.model.result",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'fanoutsim' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
