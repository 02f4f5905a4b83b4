"""The tutorial in a real browser: JupyterLab on a free localhost port, Debian's Chromium
driven by Playwright, ``04_fanout.ipynb`` run from the Run menu, and the live widgets checked
in the page (client boards that received an update). A screenshot goes to
``test-artifacts/``. Skipped only when Chromium is absent outside CI; in CI it must run.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from fanoutsim.notebook.views import BOARD_CLASS, LATEST_CLASS, UPDATED_CLASS
from fanoutsim.notebook.widgets import DASHBOARD_CLASS
from tests.browser_support import ARTIFACTS, chromium_page, require_chromium

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = "04_fanout.ipynb"
#: JupyterLab settings for a quiet, deterministic page: every cell stays in the DOM, and no
#: news or update checks reach out to the network.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}

#: No extension installs, no news, no update checks: the test touches only localhost.
OFFLINE_OPTIONS = [
    "--LabApp.extension_manager=readonly",
    "--LabApp.check_for_updates_class=jupyterlab.handlers.announcements.NeverCheckForUpdate",
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_for_server(url: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with status {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"JupyterLab did not answer {url} within {timeout:.0f} s")


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[str]:
    """JupyterLab serving a copy of the notebook (so the run cannot write outputs into the
    repository); yields the notebook's URL with its token."""
    require_chromium()
    root = tmp_path / "notebooks"
    root.mkdir()
    shutil.copy(ROOT / "notebooks" / NOTEBOOK, root / NOTEBOOK)
    settings = tmp_path / "settings"
    for name, values in LAB_SETTINGS.items():
        path = settings / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(settings),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "workspaces"),
    }
    port, token = _free_port(), secrets.token_hex(16)
    log = (tmp_path / "jupyterlab.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            f"--port={port}",
            "--ServerApp.ip=127.0.0.1",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root}",
            *OFFLINE_OPTIONS,
            *(["--allow-root"] if os.geteuid() == 0 else []),
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
    )
    try:
        _wait_for_server(f"http://127.0.0.1:{port}/api/status?token={token}", process, 90)
        yield f"http://127.0.0.1:{port}/lab/tree/{NOTEBOOK}?token={token}"
    finally:
        process.terminate()  # the server shuts its kernels down on SIGTERM
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        log.close()
        ARTIFACTS.mkdir(exist_ok=True)
        shutil.copy(tmp_path / "jupyterlab.log", ARTIFACTS / "jupyterlab.log")


def _run_all_cells(page: Page) -> None:
    """Run → Run All Cells, until the first code cell shows it started (a click that lands
    while JupyterLab is still settling the notebook's focus is lost, so retry)."""
    first_prompt = page.locator(".jp-CodeCell .jp-InputPrompt").first
    for _ in range(5):
        page.locator(".jp-NotebookPanel .jp-Notebook").first.click(position={"x": 5, "y": 5})
        page.locator('.lm-MenuBar-itemLabel:text-is("Run")').click()
        page.locator('.lm-Menu-itemLabel:text-is("Run All Cells")').click()
        try:
            expect(first_prompt).not_to_have_text("[ ]:", timeout=15_000)
            return
        except AssertionError:
            page.keyboard.press("Escape")
    raise AssertionError("Run All Cells did not start the notebook")


def _wait_until_every_cell_ran(page: Page) -> None:
    prompts = page.locator(".jp-CodeCell .jp-InputPrompt")
    expect(prompts.last).to_have_text(re.compile(r"\[\d+\]:"), timeout=300_000)
    expect(page.locator(".jp-InputPrompt", has_text="[*]")).to_have_count(0, timeout=60_000)


def _dashboard_fits_and_still_responds(page: Page) -> None:
    """After Run All the simulator is still up: on a 1366x768 screen the dashboard's publish
    controls, counters and first board are all in view at once, Add connects more clients
    and Publish changes the boards."""
    dashboard = page.locator(f".{DASHBOARD_CLASS}")
    dashboard.evaluate("(el) => el.scrollIntoView({block: 'start'})")
    page.wait_for_timeout(500)
    height = page.viewport_size["height"] if page.viewport_size else 768
    for part in (
        dashboard.get_by_role("button", name="Publish"),
        dashboard.locator(f".{BOARD_CLASS}").first,
        dashboard.get_by_text("delivered", exact=False).first,
    ):
        box = part.bounding_box()
        assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height, box
    count = dashboard.get_by_text(re.compile(r"\d+ connected"))
    before = int(count.inner_text().split()[0])
    dashboard.get_by_role("button", name="Add").click()
    expect(count).to_have_text(re.compile(rf"^{before + 5} connected"), timeout=30_000)
    dashboard.get_by_role("textbox", name="details").fill("Gate C7")
    dashboard.get_by_role("button", name="Publish").click()
    expect(dashboard.get_by_text("Gate C7").first).to_be_visible(timeout=30_000)
    assert dashboard.locator(f".{LATEST_CLASS}").count() >= 1


@pytest.mark.timeout(600)
def test_fanout_notebook_runs_and_its_widgets_render(lab: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    with chromium_page(viewport={"width": 1366, "height": 768}) as page:
        try:
            page.goto(lab)
            page.locator(".jp-NotebookPanel .jp-Cell").first.wait_for(timeout=120_000)
            idle = page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']")
            expect(idle).to_have_count(1, timeout=120_000)
            _run_all_cells(page)
            _wait_until_every_cell_ran(page)

            boards = page.locator(f".{BOARD_CLASS}")
            updated = page.locator(f".{BOARD_CLASS} .{UPDATED_CLASS}")
            expect(updated.first).to_be_visible(timeout=60_000)
            assert boards.count() >= 8
            # the widgets' last redraw reaches the page after the kernel goes idle: wait for it
            page.wait_for_function(
                """() => [...document.querySelectorAll('.fanoutsim-status')]
                         .filter(cell => cell.textContent.includes('BOARDING')).length >= 8""",
                timeout=60_000,
            )
            assert page.get_by_text("Error displaying widget").count() == 0
            # the exercise solutions open collapsed ("···"), as their metadata asks
            assert page.locator(".jp-InputPlaceholder").count() == 3
            assert page.locator(".jp-OutputArea-output", has_text="Traceback").count() == 0

            boards.first.scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / "jupyterlab-04_fanout.png"))
            _dashboard_fits_and_still_responds(page)
            page.screenshot(path=str(ARTIFACTS / "jupyterlab-04_fanout-dashboard.png"))
        except BaseException:
            page.screenshot(path=str(ARTIFACTS / "jupyterlab-04_fanout-failure.png"))
            raise
