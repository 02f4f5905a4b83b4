"""Timing profiles and their distributions: loading, sources, fits and sampling."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fanoutsim.errors import ConfigError, DataFileError
from fanoutsim.timing.distributions import Distribution
from fanoutsim.timing.profiles import (
    KEYS,
    PROFILES_DIR,
    TimingProfile,
    available_profiles,
    load_profile,
)

CONTRACT_KEYS = (
    "eventbridge_delivery",
    "lambda_cold_start",
    "lambda_warm_overhead",
    "dynamodb_write",
    "stream_to_function",
    "post_to_connection",
    "client_network",
)


def test_packaged_profiles() -> None:
    assert {"instant", "aws"} <= set(available_profiles())
    assert load_profile().name == "instant"
    assert load_profile("aws").stream_poll_interval_ms == 250
    assert load_profile("instant").stream_poll_interval_ms == 0


@pytest.mark.parametrize("name", ["instant", "aws"])
def test_every_distribution_cites_a_source(name: str) -> None:
    profile = load_profile(name)
    assert profile.source and profile.as_of
    assert set(CONTRACT_KEYS) <= set(profile.distributions)
    for row in profile.rows():
        assert row["source"].strip()


def test_instant_is_all_zero() -> None:
    profile = load_profile("instant")
    rng = np.random.default_rng(0)
    for key in KEYS:
        assert profile.sample_ms(key, rng) == 0.0
        assert np.all(profile.sample_ms(key, rng, 5) == 0.0)


def test_sampling_shapes_and_determinism() -> None:
    profile = load_profile("aws")
    one = profile.sample_ms("post_to_connection", np.random.default_rng(7))
    assert isinstance(one, float) and one > 0
    a = profile.sample_ms("client_network", np.random.default_rng(7), 1000)
    b = profile.sample_ms("client_network", np.random.default_rng(7), 1000)
    assert isinstance(a, np.ndarray) and a.shape == (1000,)
    assert np.array_equal(a, b)
    with pytest.raises(KeyError, match="known"):
        profile.sample_ms("teleport", np.random.default_rng(0))


def test_lognormal_fit_reproduces_its_quantiles() -> None:
    profile = load_profile("aws")
    d = profile.distribution("post_to_connection")
    assert d.quantile(0.5) == pytest.approx(15) and d.quantile(0.99) == pytest.approx(60)
    cold = profile.distribution("lambda_cold_start")
    assert cold.quantile(0.01) == pytest.approx(100) and cold.quantile(0.99) == pytest.approx(1000)
    draws = d.sample_array(np.random.default_rng(1), 200_000)
    assert np.percentile(draws, 50) == pytest.approx(15, rel=0.02)
    assert np.percentile(draws, 99) == pytest.approx(60, rel=0.05)
    assert draws.mean() == pytest.approx(d.mean(), rel=0.02)


def _write_to_function_ms(
    profile: TimingProfile, rng: np.random.Generator, n: int = 400_000
) -> np.ndarray:
    """Draws of a table write's time to the stream handler: the wait for the next poll,
    the stream stage's remainder and the warm invoke (the sum a published figure measures)."""
    return (
        profile.poll_wait_ms(rng, n)
        + profile.distribution("stream_to_function").sample_array(rng, n)
        + profile.distribution("lambda_warm_overhead").sample_array(rng, n)
    )


def test_aws_stream_delay_composes_to_the_published_figure_without_double_counting() -> None:
    """uniform poll wait + remainder + warm invoke ~= the measured p50 213 / p99 552 ms."""
    profile = load_profile("aws")
    rng = np.random.default_rng(3)
    n = 400_000
    p50, p99 = np.percentile(_write_to_function_ms(profile, rng, n), [50, 99])
    assert p50 == pytest.approx(213, rel=0.03) and p99 == pytest.approx(552, rel=0.03)
    eventbridge = profile.distribution("eventbridge_delivery").sample_array(
        rng, n
    ) + profile.distribution("lambda_warm_overhead").sample_array(rng, n)
    p50, p99 = np.percentile(eventbridge, [50, 99])
    assert p50 == pytest.approx(148, rel=0.03) and p99 == pytest.approx(387, rel=0.03)


def test_sum_of_draws_matches_mean_and_spread() -> None:
    rng = np.random.default_rng(2)
    d = Distribution.lognormal({0.5: 15, 0.99: 60}, "test")
    sums = d.sample_sums(rng, np.full(20_000, 50))
    exact = d.sample_array(rng, (20_000, 50)).sum(axis=1)
    assert sums.mean() == pytest.approx(exact.mean(), rel=0.02)
    assert sums.std() == pytest.approx(exact.std(), rel=0.08)
    assert d.sample_sums(rng, [0])[0] == 0
    fixed = Distribution.fixed(3, "test")
    assert np.array_equal(fixed.sample_sums(rng, [0, 1, 4]), [0, 3, 12])


def test_uniform_and_cdf() -> None:
    u = Distribution.uniform(10, 20, "test")
    assert u.mean() == 15 and u.variance() == pytest.approx(100 / 12)
    assert np.allclose(u.cdf(np.array([5.0, 15.0, 25.0])), [0, 0.5, 1])
    ln = Distribution.lognormal({0.5: 40, 0.99: 200}, "test")
    assert ln.cdf(np.array([40.0]))[0] == pytest.approx(0.5)
    assert ln.cdf(np.array([200.0]))[0] == pytest.approx(0.99)
    assert ln.cdf(np.array([0.0]))[0] == 0


def test_with_delay_overrides_one_key() -> None:
    profile = load_profile("aws")
    changed = profile.with_delay("post_to_connection", Distribution.fixed(50, "what-if"))
    assert changed.sample_ms("post_to_connection", np.random.default_rng(0)) == 50
    assert profile.distribution("post_to_connection").kind == "lognormal"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mine.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_user_profile_by_path(tmp_path: Path) -> None:
    text = (PROFILES_DIR / "instant.toml").read_text(encoding="utf-8")
    text = text.replace('name = "instant"', 'name = "mine"', 1)
    profile = load_profile(_write(tmp_path, text))
    assert profile.name == "mine"
    assert load_profile(str(tmp_path / "mine.toml")).name == "mine"


def test_bad_name_and_bad_files(tmp_path: Path) -> None:
    with pytest.raises(DataFileError, match=r"unknown timing profile 'nope'.*aws"):
        load_profile("nope")
    with pytest.raises(DataFileError, match="cannot read"):
        load_profile(tmp_path / "missing.toml")
    with pytest.raises(DataFileError, match="not valid TOML"):
        load_profile(_write(tmp_path, "= broken"))
    base = (PROFILES_DIR / "aws.toml").read_text(encoding="utf-8")
    no_source = base.replace('source = "assumption: one Scan', 'note = "assumption: one Scan')
    with pytest.raises(DataFileError, match=r"dynamodb_read.*'source' is required"):
        load_profile(_write(tmp_path, no_source))
    missing = base.replace("[delays.client_network]", "[delays.client_networking]")
    with pytest.raises(DataFileError, match="missing client_network; unknown client_networking"):
        load_profile(_write(tmp_path, missing))
    one_quantile = base.replace("p50 = 40\np99 = 200", "p50 = 40")
    with pytest.raises(DataFileError, match="exactly two positive quantiles"):
        load_profile(_write(tmp_path, one_quantile))
    bad_kind = base.replace('kind = "lognormal"\np50 = 15', 'kind = "gamma"\np50 = 15', 1)
    with pytest.raises(DataFileError, match="kind must be one of"):
        load_profile(_write(tmp_path, bad_kind))
    no_top_source = base.replace('source = "Published AWS', 'origin = "Published AWS')
    with pytest.raises(DataFileError, match="top-level 'source'"):
        load_profile(_write(tmp_path, no_top_source))


# Kinesis standard consumer to Lambda, p50 627 / p99 1,580 ms (eu-west-1, September 2022):
# https://bitesizedserverless.com/bite/serverless-messaging-latency-compared/; Lambda polls a
# Kinesis shard once a second: https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html
def test_aws_kinesis_feed_composes_to_the_published_figure() -> None:
    """uniform(0, 1 s) poll wait + remainder + warm invoke ~= p50 627 / p99 1,580 ms."""
    profile = load_profile("aws").for_stream("kinesis")
    assert profile.stream == "kinesis" and profile.stream_poll_interval_ms == 1000
    p50, p99 = np.percentile(_write_to_function_ms(profile, np.random.default_rng(4)), [50, 99])
    assert p50 == pytest.approx(627, rel=0.03) and p99 == pytest.approx(1580, rel=0.03)


def test_for_stream_swaps_only_the_feed() -> None:
    aws = load_profile("aws")
    kinesis = aws.for_stream("kinesis")
    assert aws.for_stream("dynamodb") is aws and kinesis.for_stream("kinesis") is kinesis
    assert kinesis.distribution("stream_to_function") == aws.distribution("kinesis_to_function")
    assert aws.stream_poll_interval_ms == 250  # the original is untouched
    for key in set(KEYS) - {"stream_to_function"}:
        assert kinesis.distribution(key) == aws.distribution(key)
    instant = load_profile("instant").for_stream("kinesis")
    assert instant.stream_poll_interval_ms == 0
    with pytest.raises(ConfigError, match="stream must be one of dynamodb, kinesis"):
        aws.for_stream("sqs")


def _without_kinesis(text: str) -> str:
    head, _, rest = text.partition("[delays.kinesis_to_function]")
    return head + rest[rest.index("\n[") :]


def test_a_profile_without_a_kinesis_stage_says_so(tmp_path: Path) -> None:
    text = (PROFILES_DIR / "aws.toml").read_text()
    bare = _without_kinesis(text).replace("kinesis_poll_interval_ms = 1000\n", "")
    file = tmp_path / "bare.toml"
    file.write_text(bare)
    profile = load_profile(file)
    assert profile.kinesis_poll_interval_ms is None
    with pytest.raises(DataFileError, match="does not time a Kinesis feed"):
        profile.for_stream("kinesis")
    half = tmp_path / "half.toml"
    half.write_text(_without_kinesis(text))
    with pytest.raises(DataFileError, match="go together"):
        load_profile(half)
