"""The room page on a phone: Debian's Chromium at 390x844 opens the address the room
advertises (127.0.0.2, loopback but not the default), shows the board, takes a typed name,
and an update published from the test's simulator changes it; the device then appears in
``sim.room()`` with one receipt and a latency, and in the room panel.

AWS page: https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-route-response.html
(the ack's answer comes back on the device's own connection).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fanoutsim.notebook.room_panel import RoomPanel
from fanoutsim.simulator import Simulator
from tests.browser_support import ARTIFACTS, chromium_page
from tests.sample_ids import FS303

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def room() -> Iterator[Simulator]:
    with Simulator(room=True, host="127.0.0.2") as sim:
        yield sim


def test_a_phone_joins_by_name_sees_updates_and_the_projector_shows_it(room: Simulator) -> None:
    room.clients.add(3)
    room.flights.load()
    url = room.endpoints["room"]
    assert url.startswith("http://127.0.0.2:")
    with chromium_page(viewport=PHONE, is_mobile=True) as page:
        page.goto(url)
        page.wait_for_selector("#status.open", timeout=15_000)
        assert page.locator("#flights li").count() == 6
        page.fill("#name", "Ada")
        page.click("#who button")
        page.wait_for_function(
            "() => document.querySelector('#status').textContent === 'live as Ada'",
            timeout=15_000,
        )
        page.wait_for_function(
            "() => [...document.querySelectorAll('#flights li')].length === 6", timeout=15_000
        )
        room.flights.publish("FS303", "GATE_CHANGED", "New gate B44")
        page.wait_for_function(
            f"""() => document.querySelector('li[data-flight-id="{FS303}"] .event')
                     .textContent === 'GATE_CHANGED'""",
            timeout=15_000,
        )
        page.wait_for_selector("#last .ms", timeout=15_000)
        shown = page.locator("#last .ms").text_content() or ""
        assert shown.endswith(" ms") and int(shown.split()[0]) >= 0
        # the page fits a phone: nothing wider than the screen
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "room_phone.png"))
        room.wait()
        snap = room.room()
        ada = [d for d in snap.devices if d.name == "Ada"]
        assert len(ada) == 1 and ada[0].received == 1 and ada[0].connected
        assert ada[0].latency_ms["p50"] is not None and ada[0].latency_ms["p50"] > 0
        assert set(snap.last_arrivals) == {"Ada"}
        panel = RoomPanel(room)
        panel.freeze()
        assert "Ada" in panel.table.value and "<b>1</b> phone(s)" in panel.count.value
        assert panel.image.value[:4] == b"\x89PNG" and room.endpoints["room"] in panel.header.value
