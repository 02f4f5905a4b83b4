from __future__ import annotations

import json

import pytest

from fanoutsim.cli import board_table, build_parser, main
from fanoutsim.sample_flights import scripted_day


def test_demo_delivers_every_update_and_prints_the_report(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["demo", "--clients", "3", "--updates", "2", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["deliveries"]["expected"] == 3 * (6 + 2)  # sample flights + updates
    assert report["published"] == {"status_updates": 2, "flight_loads": 6, "other": 0}
    assert report["deliveries"]["missing"] == 0
    assert report["operations"]["apigatewaymanagementapi:PostToConnection"] == 24


def test_demo_text_report_has_the_stage_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--clients", "2", "--updates", "1"]) == 0
    out = capsys.readouterr().out
    assert "end_to_end" in out and "apigatewaymanagementapi:PostToConnection" in out


def test_demo_ends_with_a_board_and_the_update_that_changed_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["demo", "--clients", "2", "--updates", "3"]) == 0
    out = capsys.readouterr().out
    assert "status updates=3  flight loads=6" in out
    flight_id, status, details = scripted_day()[2]
    assert f"the last update: {flight_id} {status} {details!r}" in out
    marked = [line for line in out.splitlines() if line.startswith("> ")]
    assert len(marked) == 1 and flight_id in marked[0] and status in marked[0]
    assert "flight  route" in out and "details" in out


def test_board_table_keeps_the_scheduled_gate() -> None:
    board = {
        "FS303": {
            "origin": "DEN",
            "dest": "LAX",
            "gate": "B31",
            "terminal": 2,
            "event": "GATE_CHANGED",
            "eventDetails": "New gate B44",
            "updatedAt": "2026-12-02T10:00:01.000Z",
        },
    }
    lines = board_table(board, changed="FS303").splitlines()
    assert lines[1].split() == [
        ">",
        "FS303",
        "DEN->LAX",
        "B31",
        "2",
        "GATE_CHANGED",
        "New",
        "gate",
        "B44",
        "10:00:01",
    ]


def test_bad_arguments_exit_with_a_message(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["demo", "--clients", "0"])
    assert "must be at least 1" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["demo", "--clients", "abc"], "argument --clients: must be a whole number, got 'abc'"),
        (["serve", "--clients", "-5"], "argument --clients: must be at least 0, got -5"),
        (["serve", "--updates", "-1"], "argument --updates: must be at least 0, got -1"),
        (["serve", "--interval", "soon"], "argument --interval: must be a number of seconds"),
        (["serve", "--port", "80"], "argument --port: must be 0 (any free port) or 1024-65533"),
    ],
)
def test_bad_values_are_plain_sentences_naming_the_option(
    argv: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        main(argv)
    assert said in capsys.readouterr().err


def test_help_has_no_markup(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "``" not in out and ":mod:" not in out and "deploy" in out


def test_unknown_timing_profile_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--clients", "1", "--updates", "1", "--timing", "nope"]) == 2
    assert "nope" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "dest", "new"),
    [
        (["demo", "--profile", "aws"], "timing", "--timing"),
        (["serve", "--profile", "aws"], "timing", "--timing"),
        (["model", "-n", "5", "--profile", "aws"], "timing", "--timing"),
        (["deploy", "--stack", "s", "--profile", "work"], "aws_profile", "--aws-profile"),
        (["teardown", "--stack", "s", "--profile", "work"], "aws_profile", "--aws-profile"),
        (["calibrate", "--stack", "s", "--profile", "work"], "aws_profile", "--aws-profile"),
    ],
)
def test_the_old_profile_spelling_still_works_with_a_note(
    argv: list[str], dest: str, new: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = build_parser().parse_args(argv)
    assert getattr(args, dest) == argv[-1]
    assert f"--profile is deprecated here; use {new}" in capsys.readouterr().err


@pytest.mark.parametrize(
    "command", ["demo", "serve", "doctor", "model", "template", "deploy", "teardown", "calibrate"]
)
def test_every_subcommand_describes_itself(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        main([command, "--help"])
    _usage, _, rest = capsys.readouterr().out.partition("\n\n")
    description = rest.split("\n\n")[0]
    assert len(description.split()) >= 8 and not description.startswith("options:")
