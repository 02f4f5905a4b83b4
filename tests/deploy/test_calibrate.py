"""``calibrate``: the measured workload runs through the attached-mode clients (here on the
simulator's endpoints), and writes a profile file that the model loads, each refitted
figure saying where and when it was measured.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from fanoutsim.cli import main
from fanoutsim.deploy.calibrate import calibrate
from fanoutsim.deploy.remote import DeployedStack
from fanoutsim.simulator import Simulator
from fanoutsim.timing.distributions import from_spec
from fanoutsim.timing.profiles import load_profile


def test_calibrate_measures_and_writes_a_profile(tmp_path: Path) -> None:
    with Simulator(aws_endpoint=True) as sim:
        progress: list[str] = []
        out = tmp_path / "mine.toml"
        with DeployedStack.of_simulator(sim) as remote:
            result = calibrate(
                remote, "eu-west-1", out, updates=10, pings=10, progress=progress.append
            )
            assert remote.report()["deliveries"]["missing"] == 0
    assert result.samples == 10
    assert progress[0] == "measured 10/10 updates" and progress[-1].startswith(f"wrote {out}")
    profile = load_profile(out)
    today = datetime.now(UTC).date().isoformat()
    assert profile.name == "mine" and profile.as_of == today
    for key in ("client_network", "stream_to_function"):
        where = f"measured locally, on the simulator (not AWS) on {today}"
        assert profile.distribution(key).source.startswith(where)
    assert (
        profile.distribution("post_to_connection").source
        == load_profile("aws").distribution("post_to_connection").source
    )


def test_cli_template_and_plain_errors(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert main(["template", "--fanout", "per-flight", "--authorizer"]) == 0
    template = json.loads(capsys.readouterr().out)
    assert "ConnectAuthorizer" in template["Resources"]
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("FANOUTSIM_STATE_DIR", str(tmp_path))
    assert main(["deploy", "--stack", "demo", "--region", "eu-west-1"]) == 2
    assert "no AWS credentials found" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["calibrate", "--stack", "demo", "--region", "eu-west-1", "--updates", "5"])
    assert "argument --updates: must be at least 10, got 5" in capsys.readouterr().err
    assert main(["calibrate", "--stack", "demo", "--region", "eu-west-1"]) == 2
    assert "no deployment of demo in eu-west-1" in capsys.readouterr().err


def _fitted_stream_p50(injected_ms: float, tmp_path: Path) -> float:
    stream = from_spec({"kind": "fixed", "value": injected_ms, "source": "test"}, "test")
    profile = load_profile("instant").with_delay("stream_to_function", stream)
    with (
        Simulator(aws_endpoint=True, profile=profile) as sim,
        DeployedStack.of_simulator(sim) as remote,
    ):
        out = tmp_path / f"injected-{injected_ms:.0f}.toml"
        result = calibrate(
            remote, "eu-west-1", out, base="instant", updates=20, pings=10, progress=print
        )
    source = result.profile.distribution("stream_to_function").source
    assert source.startswith("measured locally, on the simulator (not AWS)")  # never a region
    assert "p99 from the lognormal through p50 and p90 (20 samples, under 100)" in source
    return result.profile.distribution("stream_to_function").quantile(0.5)


def test_calibration_recovers_a_known_injected_stream_delay(tmp_path: Path) -> None:
    """The truth is what the test injects: the same run with the stream stage 0 ms and then
    400 ms longer. Whatever this machine adds to both (Python, moto, loopback) cancels in
    the difference, which must come back as the injected 400 ms within a quarter."""
    without = _fitted_stream_p50(0, tmp_path)
    with_delay = _fitted_stream_p50(400, tmp_path)
    print(f"fitted stream p50: {without:.0f} ms without, {with_delay:.0f} ms with 400 injected")
    assert 300 <= with_delay - without <= 500, (without, with_delay)
