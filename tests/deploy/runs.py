"""One run that makes every handler work: every route, GET /flights, a stale row (410)
and a severed client, two status updates. Used where a test needs every call the
handlers make (their permissions) or one real event per function (the zip's replay)."""

from __future__ import annotations

import urllib.request

from fanoutsim.sample_flights import scripted_day
from fanoutsim.simulator import Simulator


def exercise_every_handler(sim: Simulator) -> None:
    clients = sim.clients.add(3, flights=["FS101"])
    sim.flights.load()
    sim.clients.subscribe(clients[0].name, ["FS202"])
    sim.clients.unsubscribe(clients[0].name, ["FS202"])
    sim._c.loop.run(clients[0].ws.send("hello"))  # no action: the $default route answers
    sim.clients.add_stale(1)
    sim.clients.sever([clients[1].name])  # its row goes stale: the next post answers 410
    for flight_id, status, details in scripted_day()[:2]:
        sim.flights.publish(flight_id, status, details)
        sim.wait("settled")
    with urllib.request.urlopen(sim.endpoints["rest"] + "/flights", timeout=10) as answer:
        assert answer.status == 200
    sim.clients.leave([clients[2].name])  # clients[0] stays: its events can be replayed
    sim.wait("idle")
