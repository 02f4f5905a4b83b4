"""Pattern #3 in one picture: the services, the calls between them, and the numbered path an
update takes from the producer to every browser.

The diagram is data (:data:`NODES`, :data:`EDGES`) drawn by :func:`architecture_figure`, so
a notebook can put one part of the pipeline in focus (``focus="connect"``) and tests can
check that every service and call is on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

__all__ = ["EDGES", "NODES", "Edge", "Focus", "Kind", "Node", "architecture_figure"]

Focus = Literal["connect", "events", "stream", "fanout"]
Kind = Literal["actor", "gateway", "function", "table", "bus", "stream"]

_FILL: Final[dict[Kind, str]] = {
    "actor": "#eaeef2",
    "gateway": "#d8c8f0",
    "function": "#ffd8a8",
    "table": "#c5dcf5",
    "bus": "#f5c6d9",
    "stream": "#c8ebe0",
}
_BOX_W, _BOX_H = 2.7, 1.15


@dataclass(frozen=True)
class Node:
    """A box: a service or actor at (x, y), the centre, in diagram units."""

    label: str
    x: float
    y: float
    kind: Kind
    focus: frozenset[Focus]


@dataclass(frozen=True)
class Edge:
    """A call from one node to another; ``step`` numbers the update path (0: not on it)."""

    source: str
    target: str
    label: str
    focus: Focus
    step: int = 0
    shift: float = 0.0  # move the arrow off the centre line (two arrows between one pair)


def _f(*parts: Focus) -> frozenset[Focus]:
    return frozenset(parts)


NODES: Final[dict[str, Node]] = {
    "clients": Node("Browsers\n(WebSocket clients)", 1.5, 6.6, "actor", _f("connect", "fanout")),
    "gateway": Node("API Gateway\nWebSocket API", 6.2, 6.6, "gateway", _f("connect", "fanout")),
    "connect_fns": Node("on_connect /\non_disconnect λ", 10.9, 6.6, "function", _f("connect")),
    "connections": Node(
        "Connections table\n(DynamoDB)", 15.6, 6.6, "table", _f("connect", "fanout")
    ),
    "fanout_fn": Node("stream_fanout λ\n(stream handler)", 10.9, 4.0, "function", _f("fanout")),
    "mapping": Node("DynamoDB stream +\nevent source mapping", 15.6, 4.0, "stream", _f("stream")),
    "producer": Node("Producer\n(flight operations)", 1.5, 1.4, "actor", _f("events")),
    "bus": Node("EventBridge bus\nflights.events + rule", 6.2, 1.4, "bus", _f("events")),
    "events_fn": Node("flight_events λ", 10.9, 1.4, "function", _f("events")),
    "flights": Node("Flights table\n(view model)", 15.6, 1.4, "table", _f("events", "stream")),
}

EDGES: Final[tuple[Edge, ...]] = (
    Edge("clients", "gateway", "connect\n(ws upgrade)", "connect", shift=0.22),
    Edge("gateway", "connect_fns", "$connect /\n$disconnect", "connect"),
    Edge("connect_fns", "connections", "PutItem /\nDeleteItem", "connect"),
    Edge("producer", "bus", "PutEvents", "events", step=1),
    Edge("bus", "events_fn", "rule match", "events", step=2),
    Edge("events_fn", "flights", "Put /\nUpdateItem", "events", step=3),
    Edge("flights", "mapping", "stream record\n(NEW_IMAGE)", "stream", step=4),
    Edge("mapping", "fanout_fn", "batch of records", "stream", step=5),
    Edge("fanout_fn", "connections", "Scan", "fanout", step=6),
    Edge("fanout_fn", "gateway", "PostToConnection\nfor each of N clients", "fanout", step=7),
    Edge("gateway", "clients", "message", "fanout", step=8, shift=-0.22),
)


def _anchor(node: Node, toward: Node) -> tuple[float, float]:
    """Where a line from ``node``'s centre toward ``toward`` leaves its box."""
    dx, dy = toward.x - node.x, toward.y - node.y
    scale = min(
        (_BOX_W / 2) / abs(dx) if dx else float("inf"),
        (_BOX_H / 2) / abs(dy) if dy else float("inf"),
    )
    return node.x + dx * scale, node.y + dy * scale


def architecture_figure(focus: Focus | None = None) -> Figure:
    """The pipeline as boxes and arrows; numbered arrows are an update's path.

    With ``focus``, the services and calls of that part stay in colour and the rest fades.
    """
    fig = Figure(figsize=(12, 5.6), layout="constrained")
    ax = fig.subplots()
    ax.set_xlim(0.0, 17.1)
    ax.set_ylim(0.3, 7.6)
    ax.set_axis_off()
    for node in NODES.values():
        alpha = 1.0 if focus is None or focus in node.focus else 0.25
        ax.add_patch(
            FancyBboxPatch(
                (node.x - _BOX_W / 2, node.y - _BOX_H / 2),
                _BOX_W,
                _BOX_H,
                boxstyle="round,pad=0.05,rounding_size=0.15",
                facecolor=_FILL[node.kind],
                edgecolor="#444",
                alpha=alpha,
            )
        )
        ax.text(
            node.x,
            node.y,
            node.label,
            ha="center",
            va="center",
            fontsize=9,
            alpha=max(alpha, 0.4),
            parse_math=False,
        )
    for edge in EDGES:
        _draw_edge(ax, edge, 1.0 if focus is None or focus == edge.focus else 0.2)
    title = "Pattern #3: API Gateway WebSockets fan-out"
    ax.set_title(
        title
        + (f"  (in focus: {focus})" if focus else "")
        + "\nnumbers 1-8: the path of one flight update",
        fontsize=11,
    )
    return fig


def _draw_edge(ax: Axes, edge: Edge, alpha: float) -> None:
    source, target = NODES[edge.source], NODES[edge.target]
    (x1, y1), (x2, y2) = _anchor(source, target), _anchor(target, source)
    vertical = abs(x2 - x1) < 1e-6
    if vertical:
        x1, x2 = x1 + edge.shift, x2 + edge.shift
    else:
        y1, y2 = y1 + edge.shift, y2 + edge.shift
    colour = "#c2410c" if edge.step else "#444"
    arrow = FancyArrowPatch(
        (x1, y1),
        (x2, y2),
        arrowstyle="-|>",
        mutation_scale=14,
        color=colour,
        linewidth=1.5,
        alpha=alpha,
    )
    ax.add_patch(arrow)
    label = f"{edge.step}. {edge.label}" if edge.step else edge.label
    mx, my = (x1 + x2) / 2, (y1 + y2) / 2
    if vertical:  # label to the right of the arrow
        x, y, ha, va = mx + 0.15, my, "left", "center"
    elif abs(y2 - y1) > 1e-6:  # diagonal: label beside the middle, away from the line
        side = 1 if x2 > x1 else -1
        x, y, ha, va = mx + 0.2 * side, my, "left" if side > 0 else "right", "center"
    else:  # horizontal: above, or below for an arrow shifted down
        below = edge.shift < 0
        x, y, ha, va = mx, my + (-0.12 if below else 0.12), "center", "top" if below else "bottom"
    ax.text(x, y, label, ha=ha, va=va, fontsize=8, color=colour, alpha=alpha, parse_math=False)
