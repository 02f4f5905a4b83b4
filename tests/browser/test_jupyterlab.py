"""The tutorial in a real browser: JupyterLab on a free localhost port, Debian's Chromium
driven by Playwright at 1366x768, every notebook run from the Run menu (no error output,
nothing on stderr, no widget that failed to display, the solutions collapsed and not run), and in
``04_fanout.ipynb`` the live widgets checked in the page (client boards that received an
update, a dashboard that fits and still responds). Screenshots go to ``test-artifacts/``.
Skipped only when Chromium is absent outside CI; in CI it must run.
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
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from fanoutsim.notebook.views import BOARD_CLASS, LATEST_CLASS, UPDATED_CLASS
from fanoutsim.notebook.widgets import DASHBOARD_CLASS
from tests.browser_support import ARTIFACTS, chromium_browser, chromium_page, require_chromium
from tests.test_notebooks import is_solution

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = "04_fanout.ipynb"
ROOM = "09_the_room.ipynb"
PHONE = {"width": 390, "height": 844}
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


NOTEBOOKS = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))


@pytest.fixture(scope="module")
def lab_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """JupyterLab serving copies of the notebooks (so a run cannot write outputs into the
    repository); yields its base URL and token."""
    require_chromium()
    tmp_path = tmp_path_factory.mktemp("lab")
    root = tmp_path / "notebooks"
    root.mkdir()
    for name in NOTEBOOKS:
        shutil.copy(ROOT / "notebooks" / name, root / name)
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
    env.pop("FANOUTSIM_DEPLOY", None)  # notebook 07 runs its dry run
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
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for_server(f"{base}/api/status?token={token}", process, 90)
        yield base, token
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


def _shut_down_kernels(base: str, token: str) -> None:
    """End every session the page opened, so the next notebook has the machine to itself."""
    with urllib.request.urlopen(f"{base}/api/sessions?token={token}", timeout=10) as answer:
        sessions = json.load(answer)
    for session in sessions:
        request = urllib.request.Request(
            f"{base}/api/sessions/{session['id']}?token={token}", method="DELETE"
        )
        urllib.request.urlopen(request, timeout=30).close()


@pytest.fixture
def lab(lab_server: tuple[str, str]) -> Iterator[Callable[[str], str]]:
    """The URL of a notebook in the lab; its kernels are shut down afterwards."""
    base, token = lab_server
    # a workspace of its own, reset: JupyterLab would otherwise reopen the last notebook's tab
    yield lambda nb: f"{base}/lab/workspaces/{nb.split('.')[0]}/tree/{nb}?reset&token={token}"
    _shut_down_kernels(base, token)


def _solutions(notebook: str) -> int:
    cells = json.loads((ROOT / "notebooks" / notebook).read_text())["cells"]
    return sum(map(is_solution, cells))


def _open_and_run_all(page: Page, url: str) -> None:
    page.goto(url)
    page.locator(".jp-NotebookPanel .jp-Cell").first.wait_for(timeout=120_000)
    idle = page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']")
    expect(idle).to_have_count(1, timeout=120_000)
    _run_all_cells(page)
    _wait_until_every_cell_ran(page)


def _no_errors_and_solutions_collapsed(page: Page, notebook: str) -> None:
    assert page.get_by_text("Error displaying widget").count() == 0
    assert page.locator(".jp-OutputArea-output", has_text="Traceback").count() == 0
    assert page.locator(".jp-OutputArea-output[data-mime-type*='error']").count() == 0
    # every HTML table fits its output area: nothing hides off the right of the screen
    too_wide = page.evaluate(
        """() => [...document.querySelectorAll('.jp-OutputArea-output table')]
                 .filter((t) => t.getBoundingClientRect().right > 1 +
                     t.closest('.jp-OutputArea-output').getBoundingClientRect().right)
                 .map((t) => t.innerText.slice(0, 80))"""
    )
    assert too_wide == [], too_wide
    # nothing on stderr: on a projector it shows as red boxes (access logs, warnings)
    stderr = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
    assert stderr.count() == 0, stderr.all_inner_texts()[:3]
    # the exercise solutions open collapsed ("···"), as their metadata asks, and never ran
    assert page.locator(".jp-InputPlaceholder").count() == _solutions(notebook)


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
def test_fanout_notebook_runs_and_its_widgets_render(lab: Callable[[str], str]) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    with chromium_page(viewport={"width": 1366, "height": 768}) as page:
        try:
            _open_and_run_all(page, lab(NOTEBOOK))
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
            _no_errors_and_solutions_collapsed(page, NOTEBOOK)
            # no fault is injected in this notebook: no board may count a duplicate
            assert boards.filter(has_text=re.compile(r"\d+ dup")).count() == 0

            boards.first.scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / "jupyterlab-04_fanout.png"))
            _dashboard_fits_and_still_responds(page)
            page.screenshot(path=str(ARTIFACTS / "jupyterlab-04_fanout-dashboard.png"))
        except BaseException:
            page.screenshot(path=str(ARTIFACTS / "jupyterlab-04_fanout-failure.png"))
            raise


@pytest.mark.timeout(600)
@pytest.mark.parametrize("notebook", [n for n in NOTEBOOKS if n not in (NOTEBOOK, ROOM)])
def test_every_notebook_runs_all_in_the_browser(lab: Callable[[str], str], notebook: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    stem = notebook.removesuffix(".ipynb")
    with chromium_page(viewport={"width": 1366, "height": 768}) as page:
        try:
            _open_and_run_all(page, lab(notebook))
            _no_errors_and_solutions_collapsed(page, notebook)
            page.screenshot(path=str(ARTIFACTS / f"jupyterlab-{stem}.png"))  # its last cells
        except BaseException:
            page.screenshot(path=str(ARTIFACTS / f"jupyterlab-{stem}-failure.png"))
            raise


@pytest.mark.timeout(600)
def test_the_room_notebook_drives_a_phone_and_shows_it(lab: Callable[[str], str]) -> None:
    """Notebook 08 as the instructor runs it: Run All, then a phone (a 390x844 page) opens
    the room on loopback (the notebook's stack listens on every interface; the test dials
    127.0.0.1 only), joins as Ada, the projector's Publish reaches the phone, and the room
    panel lists Ada."""
    ARTIFACTS.mkdir(exist_ok=True)
    with chromium_browser() as browser:
        projector = browser.new_page(viewport={"width": 1366, "height": 768})
        try:
            _open_and_run_all(projector, lab(ROOM))
            _no_errors_and_solutions_collapsed(projector, ROOM)
            shown = projector.locator(".jp-OutputArea-output", has_text="/room").first
            found = re.search(r":(\d+)/room", shown.inner_text())
            assert found is not None
            phone = browser.new_context(viewport=PHONE, is_mobile=True).new_page()
            phone.goto(f"http://127.0.0.1:{found[1]}/room")
            phone.wait_for_selector("#status.open", timeout=30_000)
            phone.fill("#name", "Ada")
            phone.click("#who button")
            expect(phone.locator("#status")).to_have_text("live as Ada", timeout=30_000)
            projector.get_by_role("button", name="Publish").first.click()
            expect(phone.locator("#last .ms")).to_have_text(re.compile(r"\d+ ms"), timeout=30_000)
            # the room panel: one row for the phone (its rename did not leave a second one),
            # connected, one update received
            rows = projector.locator("tr", has_text="Ada")
            expect(rows.first).to_have_text(
                re.compile(r"^\s*Ada\s*●\s*1\s*0\s*\d+"), timeout=30_000
            )
            assert projector.locator("tr", has_text="left").count() == 0
            rows.first.scroll_into_view_if_needed()
            projector.screenshot(path=str(ARTIFACTS / "jupyterlab-09_the_room-panel.png"))
            phone.screenshot(path=str(ARTIFACTS / "room_phone-from-notebook.png"))
        except BaseException:
            projector.screenshot(path=str(ARTIFACTS / "jupyterlab-09_the_room-failure.png"))
            raise
