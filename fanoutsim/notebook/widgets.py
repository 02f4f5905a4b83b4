"""Live ipywidgets panels over a running pipeline (:class:`~fanoutsim.pipeline.Pipeline`: the
simulator or a deployed stack).

- :class:`ClientPanel`: add / remove clients, a live count, a grid of their flight boards.
- :class:`PublishPanel`: publish one status update, or play the scripted day at a speed.
- :class:`TablesView`: the connections table, the flights table, the stream records and an
  event log (function invocations), in tabs.
- :class:`WaterfallView`: the latest update's waterfall, redrawn as it progresses.
- :class:`Dashboard`: all of them in one box.

Each view redraws by itself when the simulator changes, at most a few times a second (see
:mod:`fanoutsim.notebook.live`). ``freeze()`` draws a view one last time and stops it: call
it before ``sim.close()`` to keep the final state on screen. Each panel displays itself in Jupyter;
``.widget`` is its ipywidgets box.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

import ipywidgets as w

from fanoutsim.errors import FanoutsimError
from fanoutsim.functions.flight_model import STATUSES
from fanoutsim.notebook import views, viz
from fanoutsim.notebook.live import LiveView
from fanoutsim.sample_flights import sample_flights, scripted_day

if TYPE_CHECKING:
    from fanoutsim.pipeline import Pipeline
    from fanoutsim.simulator import Simulator

__all__ = [
    "ClientPanel",
    "CounterStrip",
    "Dashboard",
    "PublishPanel",
    "TablesView",
    "WaterfallView",
]


class ClientPanel(LiveView):
    """Add or remove N clients; a live count and a grid of their boards (up to
    ``max_boards``, then "+N more")."""

    kinds = frozenset({"message", "connections"})

    def __init__(self, sim: Pipeline, *, max_boards: int = 12, step: int = 5) -> None:
        self.max_boards = max_boards
        self.how_many = w.BoundedIntText(
            value=step, min=1, max=1000, description="clients", layout=w.Layout(width="160px")
        )
        self.add_button = w.Button(description="Add", icon="plus", button_style="success")
        self.remove_button = w.Button(description="Remove", icon="minus")
        self.count = w.HTML()
        self.message = w.HTML()
        self.grid = w.HTML()
        self.add_button.on_click(lambda _: self._act(self.sim.clients.add, "connected"))
        self.remove_button.on_click(lambda _: self._act(self.sim.clients.leave, "disconnected"))
        controls = w.HBox([self.how_many, self.add_button, self.remove_button, self.count])
        self.widget = w.VBox([controls, self.message, self.grid])
        super().__init__(sim)
        self.refresh()

    def _act(self, action: Callable[[int], list[Any]], verb: str) -> None:
        try:
            done = action(self.how_many.value)
            self.message.value = f"{len(done)} clients {verb}"
        except FanoutsimError as error:
            self.message.value = f'<span style="color:#cf222e">{error}</span>'
        self.refresh()

    def refresh(self) -> None:
        clients = list(self.sim.clients.values())
        self.count.value = f"<b>{len(clients)}</b> connected"
        self.grid.value = str(views.boards(clients, limit=self.max_boards))


class PublishPanel(LiveView):
    """Publish one update, or play the sample flights' scripted day at ``speed`` updates a
    second with a progress bar. Missing sample flights are scheduled first."""

    kinds = frozenset({"invocation"})
    interval_s = 0.25

    def __init__(self, sim: Pipeline) -> None:
        self.script = scripted_day()
        flights = [(f.code, f.flight_id) for f in sample_flights()]  # shown, published
        self.flight = w.Dropdown(options=flights, description="flight")
        self.status = w.Dropdown(options=list(STATUSES), value="BOARDING", description="status")
        self.details = w.Text(placeholder="details, e.g. Gate B22", description="details")
        self.publish_button = w.Button(
            description="Publish", icon="paper-plane", button_style="primary"
        )
        self.speed = w.FloatLogSlider(
            value=4, base=10, min=-1, max=2, step=0.1, description="updates/s", readout_format=".1f"
        )
        self.day_button = w.Button(description="Run scripted day", icon="play")
        self.stop_button = w.Button(description="Stop", icon="stop", disabled=True)
        self.progress = w.IntProgress(
            value=0, min=0, max=len(self.script), description="day", bar_style="info"
        )
        self.message = w.HTML()
        self.day_thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.publish_button.on_click(lambda _: self.publish())
        self.day_button.on_click(lambda _: self.run_day())
        self.stop_button.on_click(lambda _: self._stop.set())
        self.widget = w.VBox(
            [
                w.HBox([self.flight, self.status]),
                w.HBox([self.details, self.publish_button]),
                w.HBox([self.speed, self.day_button, self.stop_button, self.progress]),
                self.message,
            ]
        )
        super().__init__(sim)

    def _ensure_flights(self) -> int:
        """Schedule the sample flights the view model lacks; return how many."""
        present = {f["flightId"] for f in self.sim.flights.rows()}
        missing = [f.flight for f in sample_flights() if f.flight_id not in present]
        for flight in missing:
            self.sim.flights.schedule(flight)
        if missing:
            self.sim.wait("idle")
        return len(missing)

    def publish(self) -> str:
        """Publish the chosen update; return its trace id."""
        scheduled = self._ensure_flights()
        trace = self.sim.flights.publish(self.flight.value, self.status.value, self.details.value)
        first = f"scheduled {scheduled} sample flights, then " if scheduled else ""
        self.message.value = (
            f"{first}published {self.flight.value} {self.status.value}: trace <code>{trace}</code>"
        )
        return trace

    def run_day(self) -> None:
        """Start playing the scripted day on a background thread (the cell returns)."""
        if self.day_thread is not None and self.day_thread.is_alive():
            return
        self._stop.clear()
        self.progress.value = 0
        self.day_button.disabled, self.stop_button.disabled = True, False
        self.day_thread = threading.Thread(target=self._play, name="scripted-day", daemon=True)
        self.day_thread.start()

    def _play(self) -> None:
        try:
            self._ensure_flights()
            for flight, status, details in self.script:
                if self._stop.is_set():
                    break
                started = time.monotonic()
                self.sim.flights.publish(flight, status, details)
                self.progress.value += 1
                self.message.value = f"day: {flight} {status} {details}".rstrip()
                self._stop.wait(max(0.0, 1 / self.speed.value - (time.monotonic() - started)))
            verb = "stopped" if self._stop.is_set() else "done"
            self.message.value = f"scripted day {verb}: {self.progress.value} updates published"
        except FanoutsimError as error:
            self.message.value = f'<span style="color:#cf222e">{error}</span>'
        finally:
            self.day_button.disabled, self.stop_button.disabled = False, True

    def refresh(self) -> None:
        """Nothing follows the simulator here; present for :meth:`freeze`."""

    def freeze(self) -> None:
        self._stop.set()
        if self.day_thread is not None:
            self.day_thread.join(timeout=10)
        super().freeze()


class TablesView(LiveView):
    """The connections table, the flights table, the stream records and the event log."""

    interval_s = 0.3
    TITLES: ClassVar[tuple[str, ...]] = ("Connections", "Flights", "Stream records", "Event log")
    sim: Simulator  # the tables are the simulator's own (a deployed stack's are AWS's)

    def __init__(self, sim: Simulator, *, max_rows: int = 15) -> None:
        self.max_rows = max_rows
        self.panes = {title: w.HTML() for title in self.TITLES}
        self.widget = w.Tab(children=list(self.panes.values()), titles=list(self.TITLES))
        super().__init__(sim)
        self.refresh()

    def refresh(self) -> None:
        views_of = (
            views.connections_view,
            views.flights_view,
            views.stream_view,
            views.event_log_view,
        )
        for pane, view in zip(self.panes.values(), views_of, strict=True):
            pane.value = str(view(self.sim, self.max_rows))


class WaterfallView(LiveView):
    """The waterfall of the newest update that has reached the fan-out, redrawn as its
    posts and receipts come in."""

    kinds = frozenset({"message", "invocation"})
    interval_s = 0.5

    def __init__(
        self, sim: Pipeline, *, max_clients: int = 12, width_in: float = 9.0, fontsize: int = 8
    ) -> None:
        self.max_clients = max_clients
        self.width_in = width_in
        self.fontsize = fontsize
        self.image = w.Image(format="png", layout=w.Layout(max_width="900px"))
        self.caption = w.HTML("<i>publish an update to see its waterfall</i>")
        self.widget = w.VBox([self.caption, self.image])
        self.drawn: tuple[str, int] | None = None
        super().__init__(sim)
        self.refresh()

    def latest_trace(self) -> str | None:
        """The newest published update that has at least one post."""
        for trace in reversed(list(self.sim.flights.published)):
            if self.sim.timeline(trace).per_connection["post"]:
                return trace
        return None

    def refresh(self) -> None:
        trace = self.latest_trace()
        if trace is None:
            return
        timeline = self.sim.timeline(trace)
        state = (trace, len(timeline.per_connection["receipt"]))
        if state == self.drawn:
            return
        figure = viz.waterfall_figure(
            timeline,
            max_clients=self.max_clients,
            source=viz.provenance(self.sim.options.profile.name),
            concurrency=self.sim.options.post_concurrency,
            width_in=self.width_in,
            fontsize=self.fontsize,
        )
        self.image.value = viz.png(figure)
        self.caption.value = f"waterfall of update <code>{trace}</code>"
        self.drawn = state


class CounterStrip(LiveView):
    """One line of counters: clients, updates published, pairs delivered of those owed,
    and how many are still on their way."""

    kinds = frozenset({"message", "connections"})
    interval_s = 0.5

    def __init__(self, sim: Pipeline) -> None:
        self.widget = w.HTML()
        super().__init__(sim)
        self.refresh()

    def refresh(self) -> None:
        pairs = self.sim.delivery_counts()
        cells = (
            ("clients", len(self.sim.clients)),
            ("published", len(self.sim.flights.published)),
            ("delivered", f"{pairs['delivered']:,} / {pairs['expected']:,}"),
            ("on the way", pairs["missing"]),
            ("left first", pairs["left"]),
        )
        self.widget.value = " &nbsp;·&nbsp; ".join(
            f"{name} <b>{value}</b>" for name, value in cells
        )


#: The dashboard's DOM class (the browser test finds it by it).
DASHBOARD_CLASS = "fanoutsim-dashboard"
_PROJECTOR_CSS = (
    "<style>.fanoutsim-projector, .fanoutsim-projector .widget-label,"
    " .fanoutsim-projector button, .fanoutsim-projector input, .fanoutsim-projector select"
    " {font-size: 17px !important}"
    " .fanoutsim-projector .fanoutsim-board {font-size: 15px !important}</style>"
)


class Dashboard:
    """Publish panel, counters, boards, waterfall and tables together; ``freeze()`` stops
    all. ``compact`` (the default) fits a 1366x768 projector: controls and counters on top,
    boards beside the waterfall, the tables folded away; ``projector`` enlarges the text."""

    def __init__(
        self,
        sim: Simulator,
        *,
        max_boards: int = 12,
        compact: bool = True,
        projector: bool = False,
    ) -> None:
        self.publisher = PublishPanel(sim)
        self.counters = CounterStrip(sim)
        self.clients = ClientPanel(sim, max_boards=max_boards)
        # compact: drawn 7 inches wide at 80 dpi for its 560-pixel slot, in 10-point type
        self.waterfall = (
            WaterfallView(sim, max_clients=8, width_in=7.0, fontsize=10)
            if compact
            else WaterfallView(sim)
        )
        self.tables = TablesView(sim)
        self.views: tuple[LiveView, ...] = (
            self.publisher,
            self.counters,
            self.clients,
            self.waterfall,
            self.tables,
        )
        if compact:
            self.waterfall.image.layout = w.Layout(max_width="560px")
            folded = w.Accordion(children=[self.tables.widget])
            folded.set_title(0, "Tables and log")
            folded.selected_index = None
            side = w.HBox(
                [
                    w.Box([self.clients.widget], layout=w.Layout(flex="1 1 55%")),
                    w.Box([self.waterfall.widget], layout=w.Layout(flex="1 1 45%")),
                ]
            )
            parts = [self.publisher.widget, self.counters.widget, side, folded]
        else:
            parts = [
                w.HTML("<b>Publish</b>"),
                self.publisher.widget,
                self.counters.widget,
                w.HTML("<b>Clients</b>"),
                self.clients.widget,
                w.HTML("<b>Latest update</b>"),
                self.waterfall.widget,
                w.HTML("<b>Tables and log</b>"),
                self.tables.widget,
            ]
        if projector:
            parts.insert(0, w.HTML(_PROJECTOR_CSS))
        self.widget = w.VBox(parts)
        self.widget.add_class(DASHBOARD_CLASS)
        if projector:
            self.widget.add_class("fanoutsim-projector")

    def wait(self, timeout: float = 5.0) -> bool:
        return all(view.wait(timeout) for view in self.views)

    def freeze(self) -> None:
        for view in self.views:
            view.freeze()

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)
