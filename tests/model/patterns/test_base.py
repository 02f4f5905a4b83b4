"""The question and the shared parts: coalescing arithmetic, the stage file, bill lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from fanoutsim.errors import ConfigError, DataFileError
from fanoutsim.model.patterns.base import Ask, Context, load_stage_data


def test_a_batch_is_what_the_window_holds_up_to_the_unit() -> None:
    assert Ask(subscribers=1).batch(5120) == 1  # no window
    assert Ask(subscribers=1, coalesce_s=6).batch(5120) == 2  # 20/min: 2 in 6 s
    assert Ask(subscribers=1, coalesce_s=60).batch(5120) == 5  # 20 held, 5 fit 5 KB
    assert Ask(subscribers=1, coalesce_s=60).batch(32 * 1024) == 20
    assert Ask(subscribers=1, payload_kb=8, coalesce_s=60).batch(5120) == 1  # none fit two
    # One channel per flight: a flight gets 20/100 updates a minute.
    per_flight = Ask(subscribers=1000, subscriptions_per_flight=10, coalesce_s=60)
    assert per_flight.batch(5120) == 1
    assert Ask(subscribers=1, payload_kb=6).units(5120) == 2


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("subscribers", 0, "subscribers"),
        ("payload_kb", 200, "128"),
        ("coalesce_s", -1, "window"),
        ("max_delay_s", 0, "delay"),
    ],
)
def test_bad_questions_say_what_is_wrong(field: str, value: float, words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        Ask(**{"subscribers": 10, field: value})  # type: ignore[arg-type]


def test_every_assumed_stage_says_so(ctx: Context) -> None:
    data = ctx.stages
    for key in ("appsync_broadcast", "iot_broadcast", "appsync_mutation_call"):
        assert data.bases[key] == "assumption"
        assert "assumption" in data.sources[key]


def test_a_stage_file_without_a_source_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "stages.toml"
    bad.write_text("[metering.iot_message_bytes]\nvalue = 5120\n")
    with pytest.raises(DataFileError, match="source"):
        load_stage_data(bad)


def test_every_line_says_how_its_price_is_known(ctx: Context) -> None:
    from fanoutsim.aws.pricing import BASES
    from fanoutsim.model.patterns import PATTERNS

    for name, model in PATTERNS.items():
        for line in model(Ask(subscribers=100, updates=50), ctx).lines:
            assert line.basis in BASES, (name, line.meter)
            assert line.source and "as of" in line.source
