"""The flight board page in a real browser: REST on load, WebSocket pushes after."""

from __future__ import annotations

from fanoutsim.simulator import Simulator
from tests.browser_support import ARTIFACTS, chromium_page


def test_page_shows_flights_and_applies_pushed_updates(sim: Simulator) -> None:
    sim.load_flights()
    with chromium_page() as page:
        page.goto(sim.endpoints["page"])
        page.wait_for_selector("#status.open", timeout=15_000)
        row = page.locator('tr[data-flight-id="FS303"]')
        assert row.locator("td.event").inner_text() == "SCHEDULED"
        sim.publish("FS303", "GATE_CHANGED", "New gate B44")
        page.wait_for_function(
            """() => document.querySelector('tr[data-flight-id="FS303"] td.event')
                     .textContent === 'GATE_CHANGED'""",
            timeout=15_000,
        )
        assert "New gate B44" in row.inner_text()
        assert page.locator("#flights tr").count() == 6
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "flight_board.png"))
    # the browser was a subscriber like any other: the gateway posted to it too
    assert sim.report().to_dict()["deliveries"]["posted"] >= 1
