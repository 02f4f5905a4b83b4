from __future__ import annotations

import json

import pytest

from fanoutsim.cli import main


def test_demo_delivers_every_update_and_prints_the_report(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["demo", "--clients", "3", "--updates", "2", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["deliveries"]["expected"] == 3 * (6 + 2)  # sample flights + updates
    assert report["deliveries"]["missing"] == 0
    assert report["operations"]["apigatewaymanagementapi:PostToConnection"] == 24


def test_demo_text_report_has_the_stage_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--clients", "2", "--updates", "1"]) == 0
    out = capsys.readouterr().out
    assert "end_to_end" in out and "apigatewaymanagementapi:PostToConnection" in out


def test_bad_arguments_exit_with_a_message(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["demo", "--clients", "0"])
    assert "must be at least 1" in capsys.readouterr().err


def test_unknown_profile_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--clients", "1", "--updates", "1", "--profile", "nope"]) == 2
    assert "nope" in capsys.readouterr().err
