"""Percentiles as every report in fanoutsim shows them (live runs and the model alike)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

__all__ = ["percentiles"]


def percentiles(values: Sequence[float] | npt.NDArray[np.float64]) -> dict[str, float | int | None]:
    """count, p50, p95, p99 of ``values`` (ms); None when there are none.

    NaNs are ignored. Linear interpolation, except when some values are inf (a subscriber
    never reached): interpolating would give nan, so observed values are picked instead.
    """
    data = np.asarray(values, dtype=np.float64)
    data = data[~np.isnan(data)]
    if data.size == 0:
        return {"count": 0, "p50": None, "p95": None, "p99": None}
    if np.isfinite(data).all():
        p50, p95, p99 = np.percentile(data, [50, 95, 99])
    else:
        p50, p95, p99 = np.percentile(data, [50, 95, 99], method="inverted_cdf")
    return {"count": int(data.size), "p50": float(p50), "p95": float(p95), "p99": float(p99)}
