"""The live panels without a browser: click buttons in code, then check the simulator's state
and the widget values that changed (updates that arrive on their own included)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from fanoutsim.notebook import views
from fanoutsim.notebook.live import Throttle
from fanoutsim.notebook.widgets import (
    ClientPanel,
    Dashboard,
    PublishPanel,
    TablesView,
    WaterfallView,
)
from fanoutsim.sample_flights import flight_id, sample_flights, scripted_day
from fanoutsim.simulator import Simulator
from tests.sample_ids import FS202


def _eventually(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


# --- Throttle -------------------------------------------------------------------------------


def test_throttle_coalesces_a_burst_into_few_runs_and_never_blocks() -> None:
    runs: list[float] = []
    release = threading.Event()

    def slow() -> None:
        runs.append(time.monotonic())
        release.wait(2)

    throttle = Throttle(slow, interval_s=0.05)
    started = time.monotonic()
    for _ in range(1000):
        throttle.request()
    assert time.monotonic() - started < 0.5  # requests return at once, even while it runs
    _eventually(lambda: len(runs) == 1)
    throttle.request()  # arrives while the first run is still going
    release.set()
    assert throttle.wait(5)
    assert len(runs) == 2  # the burst ran once; the later request ran once more, after it
    assert runs[1] - runs[0] >= 0.05


def test_flush_runs_after_the_running_one_and_drops_the_pending_one() -> None:
    order: list[str] = []
    started, release = threading.Event(), threading.Event()

    def action() -> None:
        order.append("run")
        started.set()
        release.wait(2)

    throttle = Throttle(action, interval_s=0.05)
    throttle.request()
    assert started.wait(2)
    throttle.request()  # pending behind the running one
    threading.Timer(0.1, release.set).start()
    throttle.flush()  # waits for the running one, cancels the pending one, runs
    order.append("flushed")
    time.sleep(0.2)
    assert order == ["run", "run", "flushed"]


def test_throttle_keeps_errors_and_keeps_working() -> None:
    calls: list[int] = []

    def flaky() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise ValueError("boom")

    throttle = Throttle(flaky, interval_s=0.0)
    throttle.request()
    assert throttle.wait(5)
    throttle.request()
    assert throttle.wait(5)
    assert throttle.errors == ["ValueError: boom"] and throttle.runs == 1 and len(calls) == 2


# --- ClientPanel ----------------------------------------------------------------------------


def test_client_panel_adds_removes_and_follows_deliveries(sim: Simulator) -> None:
    panel = ClientPanel(sim, max_boards=12)
    assert "<b>0</b> connected" in panel.count.value
    panel.how_many.value = 3
    panel.add_button.click()
    assert len(sim.clients) == 3 and len(sim.connections()) == 3
    assert "<b>3</b> connected" in panel.count.value
    assert panel.grid.value.count(f'class="{views.BOARD_CLASS}"') == 3
    assert panel.message.value == "3 clients connected"

    sim.flights.load()
    sim.flights.publish("FS101", "BOARDING", "Group 1")
    sim.wait()
    # nobody calls refresh(): the panel follows the simulator's change feed
    _eventually(lambda: panel.grid.value.count(f'class="{views.UPDATED_CLASS}') == 3)
    assert panel.grid.value.count("FS606") == 3 and "Group 1" in panel.grid.value

    panel.how_many.value = 2
    panel.remove_button.click()
    assert len(sim.clients) == 1
    assert "<b>1</b> connected" in panel.count.value
    assert panel.grid.value.count(f'class="{views.BOARD_CLASS}"') == 1


def test_client_panel_caps_the_grid(sim: Simulator) -> None:
    panel = ClientPanel(sim, max_boards=3)
    panel.how_many.value = 5
    panel.add_button.click()
    assert panel.grid.value.count(f'class="{views.BOARD_CLASS}"') == 3
    assert "+2 more" in panel.grid.value and "<b>5</b> connected" in panel.count.value


def test_client_panel_shows_a_refused_connect() -> None:
    with Simulator(connect_token="s3cret") as sim:
        panel = ClientPanel(sim)
        panel.add_button.click()
        assert "401" in panel.message.value and "cf222e" in panel.message.value
        assert sim.connections() == []


def test_frozen_panel_keeps_its_last_state(sim: Simulator) -> None:
    panel = ClientPanel(sim)
    sim.clients.add(2)
    panel.freeze()
    assert "<b>2</b> connected" in panel.count.value
    runs = panel.throttle.runs
    sim.clients.add(2)
    time.sleep(0.3)
    assert "<b>2</b> connected" in panel.count.value and panel.throttle.runs == runs


# --- PublishPanel -------------------------------------------------------------------------


def test_publish_schedules_missing_flights_then_publishes(sim: Simulator) -> None:
    sim.clients.add(2)
    panel = PublishPanel(sim)
    panel.flight.value, panel.status.value, panel.details.value = FS202, "LANDED", "Rwy 10"
    panel.publish_button.click()
    trace = sim.flights.published[-1]
    assert len(sim.flights.published) == 7  # six sample flights first, then the update
    assert "scheduled 6 sample flights" in panel.message.value and trace in panel.message.value
    sim.wait()
    for client in sim.clients.values():
        assert client.board[FS202]["event"] == "LANDED"
        assert client.board[FS202]["eventDetails"] == "Rwy 10"
    panel.publish_button.click()  # flights exist now: nothing scheduled again
    assert len(sim.flights.published) == 8 and "scheduled" not in panel.message.value


def test_scripted_day_plays_every_update_with_progress(sim: Simulator) -> None:
    sim.clients.add(2)
    panel = PublishPanel(sim)
    panel.speed.value = 100
    panel.day_button.click()
    assert panel.day_button.disabled and not panel.stop_button.disabled
    assert panel.day_thread is not None
    panel.day_thread.join(30)
    script = scripted_day()
    assert panel.progress.value == panel.progress.max == len(script)
    assert len(sim.flights.published) == len(sample_flights()) + len(script)
    assert f"done: {len(script)} updates" in panel.message.value
    assert not panel.day_button.disabled and panel.stop_button.disabled
    sim.wait()
    last = {flight_id(code): (status, details) for code, status, details in script}
    board = next(iter(sim.clients.values())).board
    assert {f: (p["event"], p["eventDetails"]) for f, p in board.items()} == last


def test_stop_ends_the_scripted_day_early(sim: Simulator) -> None:
    panel = PublishPanel(sim)
    panel.speed.value = 0.5
    panel.day_button.click()
    _eventually(lambda: panel.progress.value >= 1)
    panel.stop_button.click()
    assert panel.day_thread is not None
    panel.day_thread.join(5)
    assert not panel.day_thread.is_alive()
    assert panel.progress.value < len(scripted_day()) and "stopped" in panel.message.value


# --- tables and waterfall -----------------------------------------------------------------


def test_tables_view_follows_the_tables_stream_and_log(sim: Simulator) -> None:
    tables = TablesView(sim)
    assert "(empty)" in tables.panes["Connections"].value
    clients = sim.clients.add(2)
    sim.flights.load()
    sim.wait("idle")
    _eventually(
        lambda: (
            "FS606" in tables.panes["Stream records"].value
            and "stream_fanout" in tables.panes["Event log"].value
        )
    )
    connections = tables.panes["Connections"].value
    assert all(c.name in connections for c in clients) and "(2 rows)" in connections
    assert "(6 rows)" in tables.panes["Flights"].value
    assert "INSERT" in tables.panes["Stream records"].value
    assert "on_connect" in tables.panes["Event log"].value
    assert list(tables.widget.titles) == list(TablesView.TITLES)


def test_waterfall_view_redraws_for_the_newest_update(sim: Simulator) -> None:
    view = WaterfallView(sim)
    assert bytes(view.image.value) == b"" and view.drawn is None
    sim.clients.add(3)
    sim.flights.load()
    trace = sim.flights.publish("FS404", "CANCELLED", "Rebooked")
    sim.wait()
    _eventually(lambda: view.drawn == (trace, 3))
    assert bytes(view.image.value).startswith(b"\x89PNG") and trace in view.caption.value
    runs = view.throttle.runs
    view.refresh()  # nothing new: no redraw
    assert view.drawn == (trace, 3) and view.throttle.runs == runs


def test_dashboard_displays_and_freezes_every_view(sim: Simulator) -> None:
    dashboard = Dashboard(sim, max_boards=4)
    bundle: Any = dashboard._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    sim.clients.add(5)
    assert dashboard.wait(5)
    dashboard.freeze()
    assert all(not view.live for view in dashboard.views)
    assert "+1 more" in dashboard.clients.grid.value
    assert sim.watcher_errors == []


def test_the_compact_dashboards_waterfall_is_drawn_for_its_slot(sim: Simulator) -> None:
    """Drawn at the width it is shown (560 px), in 10-point type: legible on a 1366x768
    projector instead of a 720-pixel figure scaled down to 6-point labels."""
    import struct

    dashboard = Dashboard(sim)
    sim.clients.add(3)
    sim.flights.load()
    sim.flights.publish("FS101", "BOARDING", "Group 1")
    sim.wait()
    dashboard.waterfall.refresh()
    image = dashboard.waterfall.image
    width = struct.unpack(">I", image.value[16:20])[0]  # the PNG header's width
    assert width <= 560 and image.layout.max_width == "560px"
    assert dashboard.waterfall.fontsize >= 10
    dashboard.freeze()


def test_compact_dashboard_counts_and_highlights_the_changed_row(sim: Simulator) -> None:
    dashboard = Dashboard(sim, max_boards=4, projector=True)
    assert "fanoutsim-projector" in dashboard.widget._dom_classes
    sim.clients.add(3)
    sim.flights.load()
    sim.flights.publish("FS303", "GATE_CHANGED", "New gate B44")
    sim.wait()
    assert dashboard.wait(5)
    strip = dashboard.counters.widget.value
    assert "clients <b>3</b>" in strip and "published <b>7</b>" in strip
    assert "delivered <b>21 / 21</b>" in strip and "on the way <b>0</b>" in strip
    grid = dashboard.clients.grid.value
    assert grid.count(views.LATEST_CLASS) == 3  # one row, on every board
    latest_rows = [r for r in grid.split("<tr") if views.LATEST_CLASS in r]
    assert all("FS303" in row for row in latest_rows)
    dashboard.freeze()


def test_tall_dashboard_keeps_every_section_in_one_column(sim: Simulator) -> None:
    dashboard = Dashboard(sim, compact=False)
    titles = [c.value for c in dashboard.widget.children if hasattr(c, "value")]
    assert "<b>Tables and log</b>" in titles
    dashboard.freeze()
