"""The room on the projector: the phones that joined, and how long the last update took to
reach each of them beside the simulated clients ("the last subscriber waits", on real
devices over the room's Wi-Fi).

:func:`arrivals_figure` draws one update's arrivals as a strip per population;
:class:`RoomPanel` shows the room's address with a QR code, the devices connected, that
figure for the newest update and a table of every device, redrawn as acks arrive.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import TYPE_CHECKING

import ipywidgets as w
from matplotlib.figure import Figure

from fanoutsim.notebook import viz
from fanoutsim.notebook.live import LiveView
from fanoutsim.qr import qr_svg
from fanoutsim.room import RoomSnapshot

if TYPE_CHECKING:
    from fanoutsim.simulator import Simulator

__all__ = ["RoomPanel", "arrivals_figure", "device_table", "simulated_arrivals"]

_PHONE = "#d6336c"
_SIMULATED = "#1c7ed6"


def simulated_arrivals(sim: Simulator, trace_id: str) -> list[float]:
    """ms from PutEvents to each simulated client's receipt of ``trace_id``."""
    timeline = sim.timeline(trace_id)
    start = timeline.points.get("put_events")
    if start is None:
        return []
    return [(at - start) * 1000 for at in timeline.per_connection["receipt"].values()]


def arrivals_figure(
    devices: Mapping[str, float], simulated: Sequence[float], trace_id: str | None
) -> Figure:
    """One update's arrival on every device and simulated client (ms after PutEvents), one
    strip each; the slowest device is named."""
    fig = Figure(figsize=(9, 2.6), layout="constrained")
    ax = fig.subplots()
    rows = (
        ("simulated clients", list(simulated), _SIMULATED),
        ("phones", list(devices.values()), _PHONE),
    )
    for y, (_, values, colour) in enumerate(rows):
        spread = [y + 0.08 * ((i % 5) - 2) for i in range(len(values))]  # dots stay apart
        ax.scatter(values, spread, s=90, alpha=0.7, color=colour, edgecolors="white")
    ax.set_yticks(range(len(rows)), [f"{name} ({len(v)})" for name, v, _ in rows], fontsize=11)
    ax.set_ylim(-0.6, len(rows) - 0.4)
    ax.set_xlabel("ms after PutEvents (phones: until their acknowledgement arrived)", fontsize=10)
    ax.tick_params(axis="x", labelsize=10)
    ax.grid(axis="x", alpha=0.3)
    if devices:
        name, slowest = max(devices.items(), key=lambda item: item[1])
        ax.annotate(
            f"slowest: {name}, {slowest:.0f} ms",
            (slowest, 1),
            xytext=(0, 14),
            textcoords="offset points",
            ha="right",
            fontsize=11,
            color=_PHONE,
        )
    title = f"Update {trace_id}" if trace_id else "No update yet: publish one"
    ax.set_title(f"{title}: when it reached each subscriber", fontsize=11)
    if not devices and not simulated:
        ax.text(0.5, 0.5, "nothing has arrived yet", ha="center", transform=ax.transAxes)
    return fig


def device_table(room: RoomSnapshot) -> str:
    """Every device, slowest median last, as an HTML table."""

    def ms(value: float | None) -> str:
        return f"{value:.0f}" if value is not None else "-"

    rows = sorted(room.devices, key=lambda d: d.latency_ms["p50"] or 0.0)
    cells = "".join(
        f"<tr><td>{escape(d.name)}</td><td>{'●' if d.connected else 'left'}</td>"
        f"<td>{d.received}</td><td>{d.missed}</td><td>{ms(d.latency_ms['p50'])}</td>"
        f"<td>{ms(d.latency_ms['p99'])}</td></tr>"
        for d in rows
    )
    head = "".join(
        f"<th>{h}</th>" for h in ("device", "", "received", "missed", "p50 ms", "p99 ms")
    )
    return f'<table style="font-size:15px"><tr>{head}</tr>{cells}</table>'


class RoomPanel(LiveView):
    """The room for the projector: scan the code, then watch every phone's arrival time."""

    kinds = frozenset({"message", "connections"})
    interval_s = 0.5
    sim: Simulator  # the room is the simulator's

    def __init__(self, sim: Simulator) -> None:
        room = sim.room()  # raises without a room, saying how to open one
        url = room.url or ""
        self.header = w.HTML(
            f'<div style="display:flex;gap:24px;align-items:center">{qr_svg(url)}'
            f'<div style="font-size:22px">Open <b>{escape(url)}</b><br>'
            '<span style="font-size:16px">on a phone on this network, or scan the code; '
            "type a name to show here.</span></div></div>"
        )
        self.count = w.HTML()
        self.image = w.Image(format="png", layout=w.Layout(max_width="1000px"))
        self.table = w.HTML()
        self.widget = w.VBox([self.header, self.count, self.image, self.table])
        self.drawn: tuple[str | None, int, int] | None = None
        super().__init__(sim)
        self.refresh()

    def refresh(self) -> None:
        room = self.sim.room()
        trace = room.last_update
        simulated = simulated_arrivals(self.sim, trace) if trace else []
        state = (trace, len(room.last_arrivals), len(simulated))
        self.count.value = (
            f'<span style="font-size:20px"><b>{room.connected}</b> phone(s) connected, '
            f"<b>{len(self.sim.clients)}</b> simulated clients</span>"
        )
        self.table.value = device_table(room)
        if state != self.drawn:
            self.image.value = viz.png(
                arrivals_figure(room.last_arrivals, simulated, trace), dpi=96
            )
            self.drawn = state
