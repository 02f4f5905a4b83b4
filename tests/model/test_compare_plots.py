"""The comparison's pictures: a line per pattern, dotted where it does not work, and a map
coloured by the cheapest pattern that does."""

from __future__ import annotations

import numpy as np

from fanoutsim.model.compare_plots import (
    PATTERN_COLOURS,
    cheapest_map,
    cost_against_n,
    grid,
    latency_against_n,
    sweep,
)
from fanoutsim.model.patterns import PATTERNS


def test_cost_and_latency_draw_every_pattern_and_fade_what_does_not_work() -> None:
    runs = sweep([100, 10_000, 1_000_000], updates=50)
    for fig in (cost_against_n(runs), latency_against_n(runs)):
        (ax,) = fig.axes
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        assert set(PATTERNS) <= set(labels)
        dotted = [ln for ln in ax.get_lines() if ln.get_linestyle() == ":"]
        # API Gateway broadcast does not work at 1,000,000: its dotted stretch has points.
        red = [ln for ln in dotted if ln.get_color() == PATTERN_COLOURS["apigw-websocket"]]
        assert np.isfinite(np.asarray(red[0].get_ydata(), dtype=float)).any()
        assert "Prices:" in fig.texts[0].get_text()


def test_the_map_colours_each_cell_by_the_cheapest_working_pattern() -> None:
    counted = []
    g = grid([100, 10_000_000], [1, 120], progress=counted.append, updates=50)
    assert len(counted) == 4
    assert g.cheapest.shape == (2, 2)
    assert g.cheapest[1, 1] == -1  # 10 million subscribers at 2 updates a second: none works
    assert g.cheapest[0, 0] >= 0
    fig = cheapest_map(g, sweep([100], updates=50)[0])
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "none" in labels
