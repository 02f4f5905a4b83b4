"""Notebook helpers: sweeps, what-if rows, source tables, figures and the dashboard."""

from __future__ import annotations

import math

import ipywidgets as widgets
import numpy as np
import pytest

from fanoutsim.aws.pricing import REQUIRED_PRICES, load_prices
from fanoutsim.html_text import escape
from fanoutsim.model import dashboard
from fanoutsim.model.explore import Sweep, log_range, sources_html, sweep_n, table_html, what_if
from fanoutsim.model.plots import cost_figure, latency_figure
from fanoutsim.model.scenario import STRATEGIES, Scenario
from fanoutsim.timing.profiles import load_profile

BASE = Scenario(subscribers=1_000, concurrency=10, updates=40)


@pytest.fixture(scope="module")
def sweep() -> Sweep:
    return sweep_n(BASE, [10, 1_000, 100_000])


def test_log_range_is_round_and_log_spaced() -> None:
    assert log_range(10, 1_000_000, 2) == [
        10,
        32,
        100,
        320,
        1_000,
        3_200,
        10_000,
        32_000,
        100_000,
        320_000,
        1_000_000,
    ]


def test_sweep_covers_every_strategy_and_size(sweep: Sweep) -> None:
    assert list(sweep.results) == list(STRATEGIES)
    assert [r.scenario.subscribers for r in sweep.results["chunked"]] == [10, 1_000, 100_000]
    broadcast = sweep.monthly("broadcast")
    assert broadcast[0] < broadcast[1] < broadcast[2]
    # broadcast cannot keep up with 100,000 subscribers at 20 updates a minute: no point
    assert math.isnan(sweep.time_to_last("broadcast")[2])
    assert not math.isnan(sweep.time_to_last("per-flight")[1])


def test_what_if_rows() -> None:
    rows = what_if(BASE)
    labels = [r["what"] for r in rows]
    assert labels[0] == "broadcast (as chosen)" and "arm64 functions" in labels
    arm = next(r for r in rows if r["what"] == "arm64 functions")
    assert arm["lambda"] < rows[0]["lambda"] and arm["apigateway"] == rows[0]["apigateway"]
    html = table_html(rows, "caption")
    assert html.count("<tr>") == len(rows) + 1 and "<caption>caption</caption>" in html


def test_sources_table_names_every_source_and_date_the_model_uses() -> None:
    text = sources_html("aws")
    for row in load_prices().rows():
        used = row["price"] in REQUIRED_PRICES  # the other patterns' prices: compare's
        assert (escape(row["source"]) in text) == used, row["price"]
    for row in load_profile("aws").rows():
        assert row["delay"] in text
    assert "assumption" in text


def test_figures_have_log_axes_and_a_footnote(sweep: Sweep) -> None:
    cost = cost_figure(sweep, mark=1_000)
    assert len(cost.axes) == 3
    assert all(ax.get_xscale() == "log" and ax.get_yscale() == "log" for ax in cost.axes)
    assert any("as of" in t.get_text() for t in cost.texts)
    latency = latency_figure(sweep)
    assert len(latency.axes[0].get_lines()) == 2 * len(STRATEGIES)


def test_dashboard_has_the_knobs_and_draws_once(monkeypatch: pytest.MonkeyPatch) -> None:
    knobs = dashboard.controls()
    assert set(knobs) == {
        "subscribers",
        "updates_per_minute",
        "payload_kb",
        "strategy",
        "concurrency",
    }
    assert isinstance(knobs["subscribers"], widgets.FloatLogSlider)
    assert all(
        getattr(w, "continuous_update", False) is False
        for name, w in knobs.items()
        if name != "strategy"
    )
    shown: list[object] = []
    monkeypatch.setattr(dashboard, "_show", shown.append)
    monkeypatch.setattr(dashboard, "log_range", lambda *a: [10, 1_000])
    panel = dashboard.model_dashboard(updates=20)
    assert isinstance(panel, widgets.VBox)
    assert len(shown) == 3  # cost figure, latency figure, what-if table: the static first call
    assert np.isfinite(knobs["subscribers"].value)
