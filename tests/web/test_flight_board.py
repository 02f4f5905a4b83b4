"""The flight board page in a real browser: REST on load, WebSocket pushes after, every
field the seed's frontend shows, only the updated row's status and details change, and the
page reconnects (with backoff, saying so) after the server drops its socket.

AWS page: https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-how-to-call-websocket-api-connections.html
(``DELETE @connections/{id}`` closes a client's connection from the server side).
"""

from __future__ import annotations

import boto3

from fanoutsim.simulator import Simulator
from tests.browser_support import ARTIFACTS, chromium_page
from tests.sample_ids import FS101, FS303

CELLS = """(flight) => [...document.querySelectorAll(`tr[data-flight-id="${flight}"] td`)]
                      .map((td) => td.textContent)"""


def test_page_shows_flights_and_applies_pushed_updates(sim: Simulator) -> None:
    sim.flights.load()
    with chromium_page() as page:
        page.goto(sim.endpoints["page"])
        page.wait_for_selector("#status.open", timeout=15_000)
        before = {f: page.evaluate(CELLS, f) for f in (FS303, FS101)}
        assert before[FS303][:5] == ["FS303", "DEN → LAX", "B31", "2", "SCHEDULED"]
        sim.flights.publish("FS303", "GATE_CHANGED", "New gate B44")
        page.wait_for_function(
            f"""() => document.querySelector('tr[data-flight-id="{FS303}"] td.event')
                     .textContent === 'GATE_CHANGED'""",
            timeout=15_000,
        )
        after = {f: page.evaluate(CELLS, f) for f in (FS303, FS101)}
        changed = [
            i for i, (a, b) in enumerate(zip(before[FS303], after[FS303], strict=True)) if a != b
        ]
        assert changed[:2] == [4, 5] and set(changed) <= {4, 5, 6}  # status, details, time
        assert after[FS303][5] == "New gate B44" and after[FS303][2] == "B31"
        assert after[FS101] == before[FS101]  # the other rows did not move
        assert page.locator(f'tr[data-flight-id="{FS303}"] td.changed').count() >= 2
        assert page.locator("#flights tr").count() == 6
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "flight_board.png"))
    # the browser was a subscriber like any other: the gateway posted to it too
    assert sim.report().to_dict()["deliveries"]["posted"] >= 1


def test_page_reconnects_after_the_server_drops_it(sim: Simulator) -> None:
    sim.flights.load()
    key, secret = sim.options.credentials
    management = boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=sim.endpoints["management"],
        region_name=sim.options.region,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
    )
    with chromium_page() as page:
        page.goto(sim.endpoints["page"])
        page.wait_for_selector("#status.open", timeout=15_000)
        (first,) = [c for c, name in sim.clients.labels().items() if name == "browser"]
        management.delete_connection(ConnectionId=first)
        page.wait_for_selector("#status.waiting", timeout=15_000)
        assert "reconnecting in" in page.inner_text("#status")
        page.wait_for_selector("#status.open", timeout=15_000)
        (second,) = [c for c, name in sim.clients.labels().items() if name == "browser"]
        assert second != first
        sim.flights.publish("FS101", "BOARDING", "Group 1")
        page.wait_for_function(
            f"""() => document.querySelector('tr[data-flight-id="{FS101}"] td.event')
                     .textContent === 'BOARDING'""",
            timeout=15_000,
        )
