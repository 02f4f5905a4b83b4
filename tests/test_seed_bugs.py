"""The seed's defects on a switch, live: its one-page Scan skips every subscriber past
the first 1 MB, and its ``$disconnect`` wired to the connect handler never deletes a row.

Sources:
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Scan.html#Scan.Pagination
(one Scan page stops at 1 MB) and
https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-route-keys-connect-disconnect.html
(``$disconnect`` is where a connection's state is to be cleaned up).
"""

from __future__ import annotations

import pytest

from fanoutsim import Simulator, stack
from fanoutsim.errors import ConfigError
from fanoutsim.sample_flights import sample_flights

FLIGHT = sample_flights()[0].flight


def _first_page(sim: Simulator) -> set[str]:
    page = sim._c.dynamodb.scan(
        TableName=stack.CONNECTIONS_TABLE, ProjectionExpression="connectionId"
    )
    assert "LastEvaluatedKey" in page  # more than one page
    return {item["connectionId"]["S"] for item in page["Items"]}


@pytest.mark.parametrize("bug", [True, False])
def test_the_unpaginated_scan_misses_exactly_the_subscribers_past_the_first_page(
    bug: bool,
) -> None:
    bugs = ("unpaginated-scan",) if bug else ()
    with Simulator(seed_bugs=bugs) as sim:
        sim.clients.add(20)
        # 4 MB of rows, about 50 a page, their keys spread among the clients' (the table's
        # order is by key): some clients always fall past the first page, whatever the ids.
        sim.clients.add_stale(200, pad_bytes=20_000)
        first_page = _first_page(sim)
        labels = sim.clients.labels()  # connection id -> client name
        on_first_page = {labels[c] for c in first_page if c in labels}
        trace = sim.flights.schedule(FLIGHT)
        sim.wait("idle")
        heard = {n for n, c in sim.clients.items() if trace in c.first_receipt}
        if bug:
            assert heard == on_first_page and len(heard) < 20  # the rest, silently skipped
            assert sim.report().to_dict()["deliveries"]["missing"] == 20 - len(heard)
        else:
            assert len(heard) == 20


def test_disconnect_wired_to_connect_never_deletes_a_row() -> None:
    with Simulator(seed_bugs=("disconnect-wired-to-connect",)) as sim:
        sim.clients.add(3)
        sim.clients.leave(2)
        sim.wait("idle")
        assert len(sim.connections()) == 3  # the connect handler wrote the rows back
        disconnects = [
            i.event["requestContext"]["eventType"]
            for i in sim.invocations()
            if i.function == "on_connect"
        ]
        assert disconnects.count("DISCONNECT") == 2
    with Simulator() as fixed:
        fixed.clients.add(3)
        fixed.clients.leave(2)
        fixed.wait("idle")
        assert len(fixed.connections()) == 1


def test_seed_bugs_true_means_all_and_unknown_names_are_refused() -> None:
    with Simulator(seed_bugs=True) as sim:
        assert sim._c.options.seed_bugs == stack.SEED_BUGS
    with pytest.raises(ConfigError, match="unknown seed bugs"):
        Simulator(seed_bugs=("no-such-bug",))
