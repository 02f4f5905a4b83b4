"""Fit a timing profile to what a deployed stack measured (pure: samples in, TOML out).

A client sees two things: how long an update takes from sending ``PutEvents`` to its
first receipt (end to end), and the round trip of a WebSocket ping to API Gateway. From
those, two delays of a base profile (usually ``aws``) are refitted and marked as measured:

- ``client_network`` is half the ping round trip (lognormal through its p50 and p99);
- ``stream_to_function`` is the remainder: the lognormal that makes the profile's whole
  chain (the base's other stages, the new client network, the poll wait) reproduce the
  measured end-to-end p50 and p99. The chain is drawn by Monte Carlo with a fixed seed, and
  the remainder corrected until both quantiles match.

The other stages cannot be told apart from the client side, so they keep the base's
figures and sources. One subscriber, so the posting lane is one post long.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np

from fanoutsim.errors import ConfigError
from fanoutsim.timing.distributions import Distribution, FloatArray
from fanoutsim.timing.profiles import TimingProfile

__all__ = [
    "P99_SAMPLES",
    "Calibration",
    "chain_ms",
    "fit_lognormal",
    "fit_profile",
    "p99_basis",
    "profile_toml",
]

MIN_SAMPLES: Final = 10
#: Samples below which a measured p99 is not trusted: under 100 the p99 is the largest
#: sample or close to it. With fewer, the lognormal is fitted through p50 and p90.
P99_SAMPLES: Final = 100
_Z90: Final = 1.2815515655446004  # standard normal quantiles
_Z99: Final = 2.3263478740408408
_DRAWS: Final = 40_000
_ROUNDS: Final = 40


def fit_lognormal(samples: Sequence[float]) -> tuple[float, float]:
    """The p50 and p99 (ms) a lognormal is fitted by: measured, from :data:`P99_SAMPLES`
    samples on; below that the p99 of the lognormal through the measured p50 and p90."""
    values = np.asarray([s for s in samples if math.isfinite(s) and s > 0], dtype=np.float64)
    if len(values) < MIN_SAMPLES:
        raise ConfigError(f"at least {MIN_SAMPLES} positive samples are needed, got {len(values)}")
    p50, p90, p99 = (float(v) for v in np.quantile(values, [0.5, 0.9, 0.99]))
    if len(values) < P99_SAMPLES:
        sigma = math.log(max(p90, p50 * 1.001) / p50) / _Z90
        p99 = p50 * math.exp(sigma * _Z99)
    return p50, max(p99, p50 * 1.001)


def p99_basis(samples: int) -> str:
    """How a fit's p99 was reached, for the profile's source text."""
    if samples >= P99_SAMPLES:
        return f"p99 measured over {samples} samples"
    return f"p99 from the lognormal through p50 and p90 ({samples} samples, under {P99_SAMPLES})"


def chain_ms(
    profile: TimingProfile, rng: np.random.Generator, size: int, posts: int = 1
) -> FloatArray:
    """End-to-end draws of the chain a warm update goes through, as the live pipeline
    composes it (the profile file's header): bus, two warm invokes, the write, the poll
    wait, the stream remainder, ``posts`` sequential posts and the client network."""
    total = np.zeros(size)
    for key in ("eventbridge_delivery", "dynamodb_write", "stream_to_function", "client_network"):
        total += profile.distribution(key).sample_array(rng, size)
    total += 2 * profile.distribution("lambda_warm_overhead").sample_array(rng, size)
    total += profile.distribution("post_to_connection").sample_sums(rng, np.full(size, posts))
    return total + profile.poll_wait_ms(rng, size)


@dataclass(frozen=True)
class Calibration:
    """A fitted profile and how well it reproduces the measurement."""

    profile: TimingProfile
    measured_ms: tuple[float, float]  # end to end, p50 and p99
    modelled_ms: tuple[float, float]
    samples: int
    floored: bool  # the base's other stages alone already exceed the measurement


def fit_profile(
    base: TimingProfile,
    end_to_end_ms: Sequence[float],
    ping_rtt_ms: Sequence[float],
    *,
    where: str,
    seed: int = 0,
) -> Calibration:
    """Refit ``client_network`` and ``stream_to_function`` of ``base`` to the samples;
    ``where`` (e.g. "measured in eu-west-1 on 2026-12-02") goes into both sources."""
    m50, m99 = fit_lognormal(end_to_end_ms)
    n50, n99 = fit_lognormal([r / 2 for r in ping_rtt_ms])
    network = Distribution.lognormal(
        {0.5: n50, 0.99: n99},
        f"{where}: half the WebSocket ping round trip to API Gateway, {len(ping_rtt_ms)} "
        f"pings; {p99_basis(len(ping_rtt_ms))}",
    )
    profile = base.with_delay("client_network", network)
    rng = np.random.default_rng(seed)
    rest = chain_ms(profile.with_delay("stream_to_function", _zero()), rng, _DRAWS)
    s50 = max(1.0, m50 - float(np.quantile(rest, 0.5)))
    s99 = max(s50 * 1.01, m99 - float(np.quantile(rest, 0.99)))
    floored = m50 <= float(np.quantile(rest, 0.5))
    q50 = q99 = 0.0
    for _ in range(_ROUNDS):
        remainder = Distribution.lognormal({0.5: s50, 0.99: s99}, "")
        draws = rest + remainder.sample_array(np.random.default_rng(seed + 1), _DRAWS)
        q50, q99 = (float(v) for v in np.quantile(draws, [0.5, 0.99]))
        if abs(q50 - m50) <= 0.005 * m50 and abs(q99 - m99) <= 0.005 * m99:
            break
        s50 = max(1.0, s50 + (m50 - q50))
        s99 = max(s50 * 1.01, s99 + (m99 - q99))
    stream = Distribution.lognormal(
        {0.5: s50, 0.99: s99},
        f"{where}: the remainder that makes the chain reproduce the measured end to end "
        f"p50 {m50:.0f} / p99 {m99:.0f} ms over {len(end_to_end_ms)} receipts "
        f"({p99_basis(len(end_to_end_ms))})"
        + ("; the other stages' published figures alone exceed it, so floored" if floored else ""),
    )
    fitted = profile.with_delay("stream_to_function", stream)
    return Calibration(fitted, (m50, m99), (q50, q99), len(end_to_end_ms), floored)


def _zero() -> Distribution:
    return Distribution.fixed(0.0, "left out while fitting")


def _toml_value(value: Any) -> str:
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return repr(float(value)) if isinstance(value, float) else str(value)


def profile_toml(profile: TimingProfile, name: str, source: str, as_of: str) -> str:
    """``profile`` as a profile file (the packaged profiles' format), renamed."""
    lines = [
        f"# Timing profile {name!r}: fitted by `fanoutsim calibrate` ({source}).",
        f"name = {_toml_value(name)}",
        f"source = {_toml_value(source)}",
        f"as_of = {_toml_value(as_of)}",
        f"stream_poll_interval_ms = {_toml_value(profile.stream_poll_interval_ms)}",
        f"async_retry_delays_ms = {_toml_value(list(profile.async_retry_delays_ms))}",
        f"async_retry_source = {_toml_value(profile.async_retry_source)}",
    ]
    if profile.kinesis_poll_interval_ms is not None:
        lines.append(f"kinesis_poll_interval_ms = {_toml_value(profile.kinesis_poll_interval_ms)}")
    for key, distribution in profile.distributions.items():
        lines += ["", f"[delays.{key}]", f'kind = "{distribution.kind}"']
        if distribution.kind == "fixed":
            lines.append(f"value = {_toml_value(distribution.a)}")
        elif distribution.kind == "uniform":
            lines += [
                f"low = {_toml_value(distribution.a)}",
                f"high = {_toml_value(distribution.b)}",
            ]
        else:
            lines += [
                f"p50 = {distribution.quantile(0.5):.6g}",
                f"p99 = {distribution.quantile(0.99):.6g}",
            ]
        lines.append(f"source = {_toml_value(distribution.source)}")
    return "\n".join(lines) + "\n"
