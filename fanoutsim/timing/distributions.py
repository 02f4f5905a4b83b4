"""Delay distributions of a timing profile, in milliseconds.

Three kinds cover what the published figures support: ``fixed`` (a constant, e.g. 0 for the
``instant`` profile), ``uniform`` (low..high) and ``lognormal`` fitted from two quantiles
(most published latency figures are a p50 and a p99). Besides sampling, a distribution can
give its mean and variance (for sums of many calls), its CDF (for order statistics) and a
sum of ``m`` independent draws (for a posting lane of ``m`` sequential calls).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from fanoutsim.errors import DataFileError

__all__ = ["KINDS", "Distribution", "FloatArray", "from_spec", "ndtri"]

FloatArray = npt.NDArray[np.float64]

KINDS: Final = ("fixed", "uniform", "lognormal")
_QUANTILE_KEY: Final = re.compile(r"^p(\d{1,2}(?:\.\d+)?)$")
_NORMAL: Final = NormalDist()
_erf = np.frompyfunc(math.erf, 1, 1)

# A table of the standard normal's log lower tail, log P(Z <= z) for z <= 0, computed once
# with math.erfc; by symmetry it serves both tails. numpy has no inverse normal CDF (and
# scipy is not a dependency), so ndtri interpolates z against log p: accurate to ~1e-4 in z
# for p down to 1e-300, which is far finer than any latency figure it is used for.
_Z_TABLE: Final = np.linspace(-38.0, 0.0, 50_001)
_LOG_PHI_TABLE: Final = np.log(
    np.asarray(np.frompyfunc(math.erfc, 1, 1)(-_Z_TABLE / math.sqrt(2)), dtype=np.float64) / 2
)


def ndtri(p: npt.ArrayLike) -> FloatArray:
    """Inverse of the standard normal CDF, elementwise (vectorised, table based)."""
    q = np.clip(np.asarray(p, dtype=np.float64), 1e-300, 1.0)
    upper = q > 0.5
    log_tail = np.log(np.where(upper, -np.expm1(np.log(q)), q).clip(1e-300, 0.5))
    z = np.interp(log_tail, _LOG_PHI_TABLE, _Z_TABLE)
    out: FloatArray = np.where(upper, -z, z)
    return out


@dataclass(frozen=True)
class Distribution:
    """One delay distribution. ``a, b`` are value/0 (fixed), low/high (uniform) or
    mu/sigma of ln(ms) (lognormal). ``source`` says where the figures come from."""

    kind: str
    a: float
    b: float
    source: str

    # ------------------------------------------------------------------ constructors
    @classmethod
    def fixed(cls, value: float, source: str) -> Distribution:
        return cls("fixed", float(value), 0.0, source)

    @classmethod
    def uniform(cls, low: float, high: float, source: str) -> Distribution:
        return cls("uniform", float(low), float(high), source)

    @classmethod
    def lognormal(cls, quantiles: dict[float, float], source: str) -> Distribution:
        """Fit from exactly two quantiles, e.g. ``{0.50: 213, 0.99: 552}``."""
        (p1, x1), (p2, x2) = sorted(quantiles.items())
        z1, z2 = _NORMAL.inv_cdf(p1), _NORMAL.inv_cdf(p2)
        sigma = (math.log(x2) - math.log(x1)) / (z2 - z1)
        return cls("lognormal", math.log(x1) - sigma * z1, sigma, source)

    # ------------------------------------------------------------------ facts
    @property
    def is_fixed(self) -> bool:
        """True when every draw is the same number (no randomness to model)."""
        return self.kind == "fixed" or (self.kind == "uniform" and self.a == self.b)

    def mean(self) -> float:
        if self.kind == "fixed":
            return self.a
        if self.kind == "uniform":
            return (self.a + self.b) / 2
        return math.exp(self.a + self.b**2 / 2)

    def variance(self) -> float:
        if self.kind == "fixed":
            return 0.0
        if self.kind == "uniform":
            return (self.b - self.a) ** 2 / 12
        return (math.exp(self.b**2) - 1) * math.exp(2 * self.a + self.b**2)

    def quantiles(self, p: npt.ArrayLike) -> FloatArray:
        """Vectorised :meth:`quantile`."""
        q = np.asarray(p, dtype=np.float64)
        if self.kind == "fixed":
            return np.full(q.shape, self.a)
        if self.kind == "uniform":
            return self.a + q * (self.b - self.a)
        return np.exp(self.a + self.b * ndtri(q))

    def sample_min(self, rng: np.random.Generator, count: npt.ArrayLike) -> FloatArray:
        """For each ``c`` in ``count``, the smallest of ``c`` independent draws (c >= 1)."""
        c = np.maximum(np.asarray(count, dtype=np.float64), 1.0)
        u = rng.random(c.shape)
        return self.quantiles(-np.expm1(np.log1p(-u) / c))

    def quantile(self, p: float) -> float:
        """The value below which a fraction ``p`` of draws fall."""
        if self.kind == "fixed":
            return self.a
        if self.kind == "uniform":
            return self.a + p * (self.b - self.a)
        return math.exp(self.a + self.b * _NORMAL.inv_cdf(min(max(p, 1e-300), 1 - 1e-16)))

    def cdf(self, x: FloatArray) -> FloatArray:
        """P(draw <= x), elementwise."""
        x = np.asarray(x, dtype=np.float64)
        if self.kind == "fixed":
            return (x >= self.a).astype(np.float64)
        if self.kind == "uniform":
            if self.b == self.a:
                return (x >= self.a).astype(np.float64)
            return np.clip((x - self.a) / (self.b - self.a), 0.0, 1.0)
        out = np.zeros_like(x)
        pos = x > 0
        z = (np.log(x[pos]) - self.a) / (self.b * math.sqrt(2))
        out[pos] = 0.5 * (1.0 + np.asarray(_erf(z), dtype=np.float64))
        return out

    def describe(self) -> str:
        """Short text such as ``lognormal p50 213 / p99 552 ms``."""
        if self.kind == "fixed":
            return f"fixed {self.a:g} ms"
        if self.kind == "uniform":
            return f"uniform {self.a:g}..{self.b:g} ms"
        return f"lognormal p50 {self.quantile(0.5):.3g} / p99 {self.quantile(0.99):.3g} ms"

    # ------------------------------------------------------------------ sampling
    def sample(
        self, rng: np.random.Generator, size: int | tuple[int, ...] | None = None
    ) -> float | FloatArray:
        """Draws in ms: a float when ``size`` is None, else an array of that shape."""
        if self.kind == "fixed":
            return self.a if size is None else np.full(size, self.a)
        if self.kind == "uniform":
            value = rng.uniform(self.a, self.b, size)
        else:
            value = rng.lognormal(self.a, self.b, size)
        return float(value) if size is None else np.asarray(value, dtype=np.float64)

    def sample_array(self, rng: np.random.Generator, size: int | tuple[int, ...]) -> FloatArray:
        """Like :meth:`sample` but always an array (typed for numpy code)."""
        return np.asarray(self.sample(rng, size), dtype=np.float64)

    def sample_sums(self, rng: np.random.Generator, counts: npt.ArrayLike) -> FloatArray:
        """For each ``m`` in ``counts``, one draw of the sum of ``m`` independent delays.

        Exact for fixed delays and for ``m <= 1``; otherwise a moment-matched draw (a
        lognormal with the sum's mean and variance for lognormal delays, a normal for
        uniform ones), which is what keeps a lane of a million posts O(1) to simulate.
        """
        m = np.asarray(counts, dtype=np.float64)
        return self.max_of_sums(rng, m, np.ones(m.shape))

    def max_of_sums(
        self, rng: np.random.Generator, counts: npt.ArrayLike, lanes: npt.ArrayLike
    ) -> FloatArray:
        """The largest of ``lanes`` independent sums of ``counts`` delays each, per element.

        A lane of ``m`` sequential calls ends after the sum of ``m`` delays; with several
        lanes in parallel the slowest decides. Uses the moment-matched sum (see
        :meth:`sample_sums`) and the order statistic ``Q(u ** (1 / lanes))``.
        """
        m = np.asarray(counts, dtype=np.float64)
        c = np.maximum(np.asarray(lanes, dtype=np.float64), 1.0)
        mean, var = m * self.mean(), m * self.variance()
        if self.is_fixed:
            return mean
        if np.all(c == 1.0):
            z = rng.standard_normal(m.shape)
        else:
            z = ndtri(np.exp(np.log(rng.random(m.shape)) / c))
        if self.kind == "uniform":
            draw = mean + np.sqrt(var) * z
            return np.where(m > 0, np.clip(draw, m * self.a, m * self.b), 0.0)
        ratio = np.divide(var, mean**2, out=np.zeros_like(mean), where=mean > 0)
        sigma2 = np.log1p(ratio)
        log_mean = np.log(np.where(mean > 0, mean, 1.0))
        draw = np.exp(log_mean - sigma2 / 2 + np.sqrt(sigma2) * z)
        return np.where(m > 0, draw, 0.0)


def from_spec(spec: Any, where: str) -> Distribution:
    """Build a distribution from one TOML table; raise DataFileError naming ``where``."""
    if not isinstance(spec, dict):
        raise DataFileError(f"{where}: must be a table with 'kind' and 'source'")
    kind, source = spec.get("kind"), spec.get("source")
    if kind not in KINDS:
        raise DataFileError(f"{where}: kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if not isinstance(source, str) or not source.strip():
        raise DataFileError(f"{where}: 'source' is required (say where the figures come from)")
    if kind == "fixed":
        return Distribution.fixed(_ms(spec, "value", where), source)
    if kind == "uniform":
        low, high = _ms(spec, "low", where), _ms(spec, "high", where)
        if high < low:
            raise DataFileError(f"{where}: high must be >= low")
        return Distribution.uniform(low, high, source)
    quantiles = {}
    for key in spec:
        match = _QUANTILE_KEY.match(key)
        if match:
            p = float(match.group(1)) / 100
            if not 0 < p < 1:
                raise DataFileError(f"{where}: quantile {key} out of range")
            quantiles[p] = _ms(spec, key, where)
    if len(quantiles) != 2 or min(quantiles.values()) <= 0:
        raise DataFileError(
            f"{where}: a lognormal needs exactly two positive quantiles such as p50 and p99"
        )
    (_, low), (_, high) = sorted(quantiles.items())
    if high <= low:
        raise DataFileError(f"{where}: the higher quantile must have the larger value")
    return Distribution.lognormal(quantiles, source)


def _ms(spec: dict[str, Any], key: str, where: str) -> float:
    value = spec.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        raise DataFileError(f"{where}: '{key}' must be a number of ms >= 0, got {value!r}")
    return float(value)
