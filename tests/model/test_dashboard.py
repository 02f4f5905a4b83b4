"""Notebook 05's redraw: moving only the N slider reuses the sweep over N (the expensive
part), and any other slider computes a new one."""

from __future__ import annotations

from typing import Any

import matplotlib
import pytest

from fanoutsim.model import dashboard

matplotlib.use("Agg")


def test_moving_n_reuses_the_sweep(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Any] = []
    real = dashboard.sweep_n

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(dashboard, "sweep_n", counted)
    monkeypatch.setattr(dashboard, "_show", lambda obj: None)
    monkeypatch.setattr(dashboard, "_SWEEPS", {})
    settings = dict(updates_per_minute=20.0, payload_kb=1.0, strategy="broadcast", concurrency=10)
    dashboard.draw(1_000, **settings, updates=20)
    dashboard.draw(30_000, **settings, updates=20)
    assert len(calls) == 1
    dashboard.draw(30_000, **{**settings, "concurrency": 20}, updates=20)
    assert len(calls) == 2
