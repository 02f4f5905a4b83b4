"""The comparison: rows keyed like ``fanoutsim model --json``, a verdict that follows the
figures, costs that never fall as N or U rise, and a price change that moves only its
own meters."""

from __future__ import annotations

import dataclasses
import json
from types import MappingProxyType

import pytest

from fanoutsim.aws.pricing import Tier, load_prices
from fanoutsim.errors import ConfigError
from fanoutsim.model.compare import Comparison, compare, context
from fanoutsim.model.patterns import PATTERNS

QUICK = {"updates": 100}


def test_one_row_per_pattern_with_every_figure_and_its_source() -> None:
    data = json.loads(json.dumps(compare(1000, **QUICK).to_dict(), allow_nan=False))
    rows = {row["pattern"]: row for row in data["patterns"]}
    assert set(rows) == {
        "apigw-websocket",
        "appsync-events",
        "appsync-graphql",
        "iot-core",
        "polling",
    }
    for row in rows.values():
        assert row["monthly_cost_usd"]["total"] > 0
        assert isinstance(row["sustainable"], bool) and isinstance(row["binding"], list)
        assert row["time_to_last_ms"]["p50"] <= row["time_to_last_ms"]["p99"]
        assert "prices" in row["sources"] and "profile" in row["sources"]
        assert sum(x["usd"] for x in row["lines"] if not x["common_to_all"]) == pytest.approx(
            row["monthly_cost_usd"]["total"]
        )
    assert data["verdict"]


def test_the_verdict_names_the_cheapest_pattern_that_works() -> None:
    c = compare(10_000, **QUICK)
    working = [r for r in c.results.values() if c.works(r)]
    best = min(working, key=lambda r: r.total(with_transfer=True))
    assert c.verdict().startswith(f"{best.pattern} is the cheapest pattern that works")
    assert f"{best.total(with_transfer=True):,.2f}" in c.verdict()


def test_when_nothing_works_the_verdict_says_what_must_be_raised() -> None:
    c = compare(10_000_000, 120, **QUICK)
    assert not any(c.works(r) for r in c.results.values())
    assert c.verdict().startswith("No pattern works at default quotas")
    assert "needs:" in c.verdict()


def test_a_delay_target_rules_out_slow_patterns() -> None:
    free = compare(100, 60, **QUICK)
    strict = compare(100, 60, max_delay_s=5, **QUICK)
    assert free.cheapest().pattern == "polling"  # a 15 s poll is cheapest at 60 updates/min
    assert strict.cheapest().pattern != "polling"
    assert any("too slow" in b for b in strict.needs(strict["polling"]))


@pytest.mark.parametrize("pattern", list(PATTERNS))
def test_cost_never_falls_as_n_or_u_rises(pattern: str) -> None:
    ctx = context()
    by_n = [
        compare(n, patterns=[pattern], ctx=ctx, **QUICK)[pattern].total(with_transfer=True)
        for n in (10, 100, 1_000, 10_000, 100_000, 1_000_000)
    ]
    by_u = [
        compare(2_000, u, patterns=[pattern], ctx=ctx, **QUICK)[pattern].total(with_transfer=True)
        for u in (1, 5, 20, 60, 120)
    ]
    assert by_n == sorted(by_n)
    assert by_u == sorted(by_u)


def test_a_price_change_moves_only_the_meters_it_prices() -> None:
    base = load_prices()
    key = "iot_messages"
    doubled = dataclasses.replace(
        base[key], tiers=tuple(Tier(t.up_to, t.usd * 2) for t in base[key].tiers)
    )
    prices = dataclasses.replace(base, prices=MappingProxyType({**base.prices, key: doubled}))
    before = compare(5_000, **QUICK)
    after = compare(5_000, ctx=context(prices), **QUICK)
    for name in PATTERNS:
        for old, new in zip(before[name].lines, after[name].lines, strict=True):
            priced_by_key = old.source == f"{base[key].source} (as of {base[key].as_of})"
            assert (new.usd == pytest.approx(2 * old.usd)) if priced_by_key else new == old
    assert after["iot-core"].total() > before["iot-core"].total()
    assert after["apigw-websocket"].total() == before["apigw-websocket"].total()


def test_unknown_patterns_are_refused_with_the_known_ones() -> None:
    with pytest.raises(ConfigError, match="known: apigw-websocket"):
        compare(10, patterns=["carrier-pigeon"])


def test_the_free_tier_lowers_a_small_bill_only_a_little() -> None:
    paid = compare(10, **QUICK)
    free = compare(10, free_tier=True, **QUICK)
    for name in PATTERNS:
        assert free[name].total() <= paid[name].total()
    assert free["appsync-graphql"].total() < paid["appsync-graphql"].total()


def test_the_table_has_a_row_per_pattern_and_the_verdict() -> None:
    c: Comparison = compare(100, **QUICK)
    text = c.table()
    for name in PATTERNS:
        assert name in text
    assert c.verdict() in text
    assert "assumption" in text
