"""``fanoutsim compare`` from the command line: the table, JSON, and clear refusals."""

from __future__ import annotations

import json

import pytest

from fanoutsim.cli import main


def test_the_table_prints_every_pattern_and_a_verdict(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", "-n", "10000", "--updates", "100"]) == 0
    out = capsys.readouterr().out
    for name in ("apigw-websocket", "appsync-events", "appsync-graphql", "iot-core", "polling"):
        assert f"\n{name} " in out
    assert "is the cheapest pattern that works" in out


def test_json_keys_patterns_as_fanoutsim_model_does(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["compare", "-n", "100", "--updates", "100", "--json", "--patterns", "iot-core,polling"]
    assert main(argv) == 0
    data = json.loads(capsys.readouterr().out)
    assert [row["pattern"] for row in data["patterns"]] == ["iot-core", "polling"]
    row = data["patterns"][0]
    assert {"monthly_cost_usd", "sustainable", "binding", "time_to_last_ms", "sources"} <= set(row)
    assert "total" in row["monthly_cost_usd"]


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--patterns", "smoke-signals"], "unknown pattern"),
        (["--payload-kb", "500"], "128"),
        (["--prices", "/nonexistent/prices.toml"], "cannot read price file"),
    ],
)
def test_bad_input_gets_a_sentence_and_exit_2(
    argv: list[str], words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["compare", "-n", "100", *argv]) == 2
    assert words in capsys.readouterr().err
