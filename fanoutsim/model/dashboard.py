"""An ipywidgets dashboard over the model: sliders in, cost and latency plots out.

Built with ``interactive_output`` and ``continuous_update=False``: the model reruns when a
slider is released, not while it moves. ``interactive_output`` draws once when the
dashboard is created, with the default values; that first, static draw is what a headless
notebook run (CI) executes.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import ipywidgets as widgets
from IPython.display import HTML as _HTML
from IPython.display import display as _display

from fanoutsim.functions.stream_fanout import DEFAULT_POST_CONCURRENCY
from fanoutsim.model.explore import (
    Sweep,
    log_range,
    sources_html,
    sweep_n,
    table_html,
    what_if,
)
from fanoutsim.model.plots import cost_figure, latency_figure
from fanoutsim.model.scenario import STRATEGIES, Scenario
from fanoutsim.timing.profiles import TimingProfile, load_profile

__all__ = ["CONCURRENCY", "controls", "draw", "model_dashboard", "show_sources"]

CONCURRENCY = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)


def _show(obj: object) -> None:
    _display(obj)  # type: ignore[no-untyped-call]


def _html(text: str) -> object:
    return _HTML(text)  # type: ignore[no-untyped-call]


def controls() -> dict[str, widgets.ValueWidget]:
    """The sliders and the strategy menu, keyed by :func:`draw`'s parameter names."""
    style = {"description_width": "110px"}
    return {
        "subscribers": widgets.FloatLogSlider(
            value=50_000,
            base=10,
            min=1,
            max=6,
            step=0.25,
            description="subscribers N",
            readout_format=",.0f",
            continuous_update=False,
            style=style,
        ),
        "updates_per_minute": widgets.FloatSlider(
            value=20,
            min=0.5,
            max=120,
            step=0.5,
            description="updates / min",
            continuous_update=False,
            style=style,
        ),
        "payload_kb": widgets.FloatSlider(
            value=1,
            min=0.5,
            max=128,
            step=0.5,
            description="payload KB",
            continuous_update=False,
            style=style,
        ),
        "strategy": widgets.Dropdown(
            options=STRATEGIES, value="broadcast", description="strategy", style=style
        ),
        "concurrency": widgets.SelectionSlider(
            options=CONCURRENCY,
            value=DEFAULT_POST_CONCURRENCY,
            description="concurrency",
            continuous_update=False,
            style=style,
        ),
    }


_SWEEPS: dict[tuple[Any, ...], Sweep] = {}


def _sweep(base: Scenario, profile: TimingProfile) -> Sweep:
    """The sweep over N for ``base``'s other settings; moving only the N slider reuses it
    (the sweep does not depend on the N marked on it). Kept for the last 32 settings."""
    key = (profile.name, profile.path, repr(dataclasses.replace(base, subscribers=1)))
    if key not in _SWEEPS:
        if len(_SWEEPS) >= 32:
            _SWEEPS.pop(next(iter(_SWEEPS)))
        _SWEEPS[key] = sweep_n(base, log_range(10, 1_000_000, 2), profile=profile)
    return _SWEEPS[key]


def draw(
    subscribers: float,
    updates_per_minute: float,
    payload_kb: float,
    strategy: str,
    concurrency: int,
    *,
    profile: TimingProfile | None = None,
    updates: int = 200,
) -> None:
    """Run the model for the chosen settings and display the figures and the what-if table."""
    prof = profile or load_profile("aws")
    n = max(1, round(subscribers))
    base = Scenario(
        subscribers=n,
        updates_per_minute=updates_per_minute,
        payload_kb=payload_kb,
        strategy=strategy,
        concurrency=concurrency,
        updates=updates,
    )
    sweep = _sweep(base, prof)
    _show(cost_figure(sweep, mark=n))
    _show(latency_figure(sweep, mark=n))
    rows = what_if(base, prof)
    _show(_html(table_html(rows, f"What if, at N = {n:,} (USD per month; seconds)")))


def model_dashboard(profile: str | TimingProfile = "aws", updates: int = 200) -> widgets.VBox:
    """Sliders for N (log scale), updates per minute, payload, strategy and concurrency."""
    prof = profile if isinstance(profile, TimingProfile) else load_profile(profile)
    knobs = controls()

    def redraw(**values: Any) -> None:
        draw(**values, profile=prof, updates=updates)

    out = widgets.interactive_output(redraw, knobs)
    panel = widgets.VBox(
        [
            widgets.HBox([knobs["subscribers"], knobs["updates_per_minute"], knobs["payload_kb"]]),
            widgets.HBox([knobs["strategy"], knobs["concurrency"]]),
            out,
        ]
    )
    return panel


def show_sources(profile: str | TimingProfile = "aws") -> None:
    """Display every price and delay with its source and date."""
    _show(_html(sources_html(profile)))
