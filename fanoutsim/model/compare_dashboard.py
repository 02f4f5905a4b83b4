"""Sliders over the pattern comparison: the table, the verdict and cost against N.

Same shape as the model's dashboard (:mod:`fanoutsim.model.dashboard`): ``interactive_output``
with ``continuous_update=False``, so the comparison reruns when a slider is released. The
sweep behind the plot is short (nine sizes, 100 simulated updates for Pattern 3) and is
reused while only N moves, which keeps an answer under a second.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
from IPython.display import HTML as _HTML
from IPython.display import display as _display

from fanoutsim.model.compare import Comparison, compare
from fanoutsim.model.compare_plots import cost_against_n, sweep
from fanoutsim.model.explore import log_range, table_html
from fanoutsim.model.result import format_ms
from fanoutsim.stats import percentiles

__all__ = ["controls", "draw", "pattern_dashboard", "rows"]

#: Sizes the plot sweeps (10 to 10 million, one a decade and a half).
SIZES = log_range(10, 10_000_000, 1)
_RUNS: dict[tuple[Any, ...], list[Comparison]] = {}


def _show(obj: object) -> None:
    _display(obj)  # type: ignore[no-untyped-call]


def controls() -> dict[str, widgets.ValueWidget]:
    """The sliders, keyed by :func:`draw`'s parameter names."""
    style = {"description_width": "150px"}
    slider = {"continuous_update": False, "style": style}
    return {
        "subscribers": widgets.FloatLogSlider(
            value=10_000,
            base=10,
            min=1,
            max=7,
            step=0.25,
            description="subscribers N",
            readout_format=",.0f",
            **slider,
        ),
        "updates_per_minute": widgets.FloatLogSlider(
            value=20,
            base=10,
            min=0,
            max=2.5,
            step=0.1,
            description="updates / min",
            readout_format=".3g",
            **slider,
        ),
        "payload_kb": widgets.FloatSlider(
            value=1, min=0.5, max=64, step=0.5, description="payload KB", **slider
        ),
        "per_flight": widgets.FloatSlider(
            value=0,
            min=0,
            max=1,
            step=0.01,
            description="per-flight interest",
            readout_format=".0%",
            **slider,
        ),
        "max_delay_s": widgets.FloatLogSlider(
            value=60, base=10, min=0, max=2, step=0.1, description="last within (s)", **slider
        ),
    }


def rows(c: Comparison) -> list[dict[str, Any]]:
    """One table row per pattern: cost, time to the last subscriber, whether it works."""
    out = []
    for r in c.results.values():
        last = percentiles(r.time_to_last_ms)
        out.append(
            {
                "pattern": r.pattern,
                "USD / month": round(r.total(with_transfer=True), 2),
                "last p50": format_ms(last["p50"]),
                "last p99": format_ms(last["p99"]),
                "works": "yes" if c.works(r) else "no: " + c.needs(r)[0].split(":")[0],
            }
        )
    return out


def draw(
    subscribers: float,
    updates_per_minute: float,
    payload_kb: float,
    per_flight: float,
    max_delay_s: float,
) -> None:
    """Compare at the chosen settings; show the table, the verdict and cost against N.
    ``per_flight`` is the share of subscribers following the updated flight (0: everyone
    gets every update)."""
    n = max(1, round(subscribers))
    question: dict[str, Any] = {
        "updates_per_minute": updates_per_minute,
        "payload_kb": payload_kb,
        "max_delay_s": max_delay_s,
        "updates": 100,
    }
    share = per_flight if per_flight > 0 else None
    c = compare(n, subscriptions_per_flight=share * n if share else None, **question)
    _show(_HTML(table_html(rows(c), f"N = {n:,}: USD a month with data transfer")))  # type: ignore[no-untyped-call]
    _show(_HTML(f"<p><b>Verdict.</b> {c.verdict()}</p>"))  # type: ignore[no-untyped-call]
    key = (updates_per_minute, payload_kb, max_delay_s, share)
    if key not in _RUNS:
        if len(_RUNS) >= 16:
            _RUNS.pop(next(iter(_RUNS)))
        _RUNS[key] = sweep(SIZES, per_flight_share=share, **question)
    _show(cost_against_n(_RUNS[key], mark=n))


def pattern_dashboard() -> widgets.VBox:
    """Sliders for N, the update rate, the payload, per-flight interest and a delay target."""
    knobs = controls()
    out = widgets.interactive_output(draw, knobs)
    return widgets.VBox(
        [
            widgets.HBox([knobs["subscribers"], knobs["updates_per_minute"]]),
            widgets.HBox([knobs["payload_kb"], knobs["per_flight"]]),
            knobs["max_delay_s"],
            out,
        ]
    )
