"""The package's public surface: top-level exports, ``__all__`` everywhere, ``python -m``."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys

import pytest

import fanoutsim


def _modules() -> list[str]:
    names = ["fanoutsim"]
    for info in pkgutil.walk_packages(fanoutsim.__path__, "fanoutsim."):
        names.append(info.name)
    return names


@pytest.mark.parametrize("name", _modules())
def test_every_module_declares_all_and_every_name_in_it_exists(name: str) -> None:
    module = importlib.import_module(name)
    assert hasattr(module, "__all__"), f"{name} has no __all__"
    missing = [n for n in module.__all__ if not hasattr(module, n)]
    assert missing == []


def test_top_level_exports_the_entry_points() -> None:
    from fanoutsim import FanoutsimError, Scenario, Simulator, SimulatorError, simulate
    from fanoutsim.errors import FanoutsimError as Root
    from fanoutsim.simulator import Simulator as Facade

    assert Simulator is Facade and FanoutsimError is Root
    assert issubclass(SimulatorError, FanoutsimError)
    result = simulate(Scenario(subscribers=10, updates=5), "instant", seed=1)
    assert result.operations["apigatewaymanagementapi:PostToConnection"] == 10
    with pytest.raises(AttributeError):
        _ = fanoutsim.NoSuchThing  # type: ignore[attr-defined]


def test_importing_the_handlers_loads_neither_moto_nor_numpy() -> None:
    code = (
        "import sys, fanoutsim.functions.stream_fanout, fanoutsim.functions.flight_events;"
        "print(sorted(m for m in ('moto', 'numpy', 'websockets') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_python_dash_m_runs_the_command_line() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "fanoutsim", "--help"], capture_output=True, text=True, check=True
    )
    assert "demo" in out.stdout and "serve" in out.stdout and "model" in out.stdout
