"""``fanoutsim model``: options, the JSON output and agreement with the engine."""

from __future__ import annotations

import argparse
import json

import pytest

from fanoutsim.model import command
from fanoutsim.model.engine import simulate
from fanoutsim.model.scenario import Scenario
from fanoutsim.timing.profiles import load_profile


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="fanoutsim")
    sub = parser.add_subparsers(dest="command", required=True)
    command.add_parser(sub)
    return parser.parse_args(argv)


def test_json_has_the_keys_and_matches_the_engine(capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "model",
        "--subscribers",
        "50000",
        "--updates-per-minute",
        "20",
        "--payload-kb",
        "1",
        "--strategy",
        "broadcast",
        "--updates",
        "50",
        "--json",
    ]
    args = _parse(argv)
    assert args.command == "model"
    assert command.run(args) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data["monthly_cost_usd"]) == {
        "apigateway",
        "lambda",
        "dynamodb",
        "eventbridge",
        "kinesis",
        "total",
    }
    assert data["monthly_cost_usd"]["kinesis"] == 0  # the default feed: a DynamoDB stream
    assert {"p50", "p99"} <= set(data["time_to_last_ms"])
    engine = simulate(Scenario(subscribers=50_000, updates=50), "aws", seed=0)
    assert data["monthly_cost_usd"] == pytest.approx(engine.cost_per_month)
    assert data["operations"] == engine.operations
    assert data["sources"]["prices"] and data["sources"]["profile"]


def test_stream_kinesis_models_the_seeds_feed(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["model", "-n", "300", "--updates", "40", "--stream", "kinesis", "--json"]
    assert command.run(_parse(argv)) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["scenario"]["stream"] == "kinesis"
    engine = simulate(Scenario(subscribers=300, updates=40, stream="kinesis"), "aws", seed=0)
    assert data["monthly_cost_usd"] == pytest.approx(engine.cost_per_month)
    assert data["monthly_cost_usd"]["kinesis"] > 29.2  # 730 stream hours, and the data
    assert (
        command.run(_parse(["model", "-n", "300", "--updates", "40", "--stream", "kinesis"])) == 0
    )
    assert "Kinesis data stream" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        _parse(["model", "-n", "3", "--stream", "sqs"])


def test_numbers_match_for_every_strategy(capsys: pytest.CaptureFixture[str]) -> None:
    for strategy in ("broadcast", "per-flight", "chunked"):
        argv = [
            "model",
            "-n",
            "2000",
            "--strategy",
            strategy,
            "--concurrency",
            "8",
            "--updates-per-minute",
            "2",
            "--updates",
            "40",
            "--seed",
            "3",
            "--json",
        ]
        assert command.run(_parse(argv)) == 0
        data = json.loads(capsys.readouterr().out)
        scenario = Scenario(
            subscribers=2_000, strategy=strategy, concurrency=8, updates_per_minute=2, updates=40
        )
        engine = simulate(scenario, "aws", seed=3)
        assert data["time_to_last_ms"]["p50"] == pytest.approx(engine.time_to_last()["p50"])
        assert data["time_to_last_ms"]["p99"] == pytest.approx(engine.time_to_last()["p99"])
        assert data["monthly_cost_usd"]["total"] == pytest.approx(engine.cost_per_month["total"])


def test_text_output_names_its_sources(capsys: pytest.CaptureFixture[str]) -> None:
    assert command.main(["-n", "100", "--updates", "20"]) == 0
    out = capsys.readouterr().out
    assert "per month" in out and "time to last subscriber" in out
    assert "prices: us-east-1" in out and "as of" in out and "timings: aws profile" in out


def test_post_ms_overrides_the_post_latency_keeping_its_spread() -> None:
    profile = command.with_post_ms(load_profile("aws"), 30)
    dist = profile.distribution("post_to_connection")
    assert dist.quantile(0.5) == pytest.approx(30) and dist.quantile(0.99) == pytest.approx(120)
    assert "--post-ms" in dist.source
    instant = command.with_post_ms(load_profile("instant"), 5)
    assert instant.distribution("post_to_connection").kind == "fixed"


def test_slower_posts_give_a_later_last_subscriber(capsys: pytest.CaptureFixture[str]) -> None:
    base = ["-n", "300", "--updates", "30", "--updates-per-minute", "2", "--concurrency", "1"]
    base.append("--json")
    command.main(base)
    fast = json.loads(capsys.readouterr().out)["time_to_last_ms"]["p50"]
    command.main([*base, "--post-ms", "60"])
    slow = json.loads(capsys.readouterr().out)["time_to_last_ms"]["p50"]
    assert slow > 3 * fast


def test_errors_are_reported_with_exit_status_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert command.main(["-n", "10", "--profile", "nope"]) == 2
    assert "unknown timing profile 'nope'" in capsys.readouterr().err
    assert command.main(["-n", "0"]) == 2
    assert "subscribers must be >= 1" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        _parse(["model", "-n", "10", "--strategy", "gossip"])
