"""``fanoutsim doctor`` finds what would stop a workshop and says the fix: a port serve
needs held by something else, a missing package, an old Python; on this machine's loopback
its WebSocket round trip and its simulator work."""

from __future__ import annotations

import socket
import subprocess
import sys

from fanoutsim.doctor import (
    Check,
    check_packages,
    check_ports,
    check_python,
    check_simulator,
    check_websocket,
    render,
)
from tests.test_serve import _free_port_block


def test_a_port_in_use_is_named_with_its_fix() -> None:
    port = _free_port_block()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port + 2))
        taken.listen()
        check = check_ports(port)
    assert not check.ok and check.found == f"in use: {port + 2}"
    assert "another --port" in check.fix
    assert check_ports(port).ok  # released


def test_a_missing_package_is_named_with_its_fix() -> None:
    check = check_packages(["boto3", "no-such-package-fanoutsim"], "running", "pip install -e .")
    assert not check.ok and check.found == "missing: no-such-package-fanoutsim"
    assert check.fix == "pip install -e ."
    assert check_packages(["boto3"], "running", "x").found.startswith("boto3 ")


def test_an_old_python_is_a_problem() -> None:
    assert not check_python((3, 10)).ok and check_python((3, 11)).ok


def test_the_report_puts_each_fix_under_its_problem() -> None:
    text = render([Check("a", True, "fine"), Check("b", False, "broken", "do this")])
    assert text.splitlines() == ["     ok  a: fine", "PROBLEM  b: broken", "         fix: do this"]


def test_loopback_checks_pass_here() -> None:
    assert check_websocket().ok
    simulator = check_simulator()
    assert simulator.ok and simulator.found.startswith("7 deliveries")  # 6 loads + 1 update


def test_the_command_exits_1_on_a_problem_and_prints_every_check() -> None:
    port = _free_port_block()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        done = subprocess.run(
            [sys.executable, "-m", "fanoutsim", "doctor", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 1, done.stderr
    lines = done.stdout.splitlines()
    assert f"PROBLEM  ports {port}-{port + 2} for serve --port {port}: in use: {port}" in lines
    assert any(line.startswith("         fix: stop what holds") for line in lines)
    assert lines[-1].endswith(" of 7 checks passed")
