from __future__ import annotations

import math

from fanoutsim.stats import percentiles


def test_percentiles_of_nothing_are_none() -> None:
    assert percentiles([]) == {"count": 0, "p50": None, "p95": None, "p99": None}
    assert percentiles([1.0, 2.0, 3.0])["p50"] == 2.0


def test_never_delivered_values_stay_inf_and_nan_is_ignored() -> None:
    stats = percentiles([1.0, 2.0, math.nan, math.inf])
    assert stats["count"] == 3
    assert stats["p99"] == math.inf
    assert stats["p50"] == 2.0
