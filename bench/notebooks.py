"""Benchmark: how long Run All takes for each notebook, and how fast notebook 05 answers a
slider change.

    python bench/notebooks.py [--only 05_cost_and_latency]

Each notebook runs top to bottom in a fresh kernel (what Run All does; solutions are raw
cells and are not run). The baseline, measured in the same run, is a notebook of one empty
cell: the kernel's own start, which every notebook pays too; each time is also printed as a
ratio to it. For notebook 05, ``draw()`` (what a slider change calls) is timed once cold (the cell
running) and then as a slider change, median of three, at the default settings and at the
slowest corner (a million subscribers, concurrency 1).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def run_all(notebook: dict) -> float:
    """Seconds to run every code cell of ``notebook`` in a fresh kernel."""
    import nbformat
    from nbclient import NotebookClient

    parsed = nbformat.reads(json.dumps(notebook), 4)
    started = time.perf_counter()
    NotebookClient(
        parsed, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}
    ).execute()
    return time.perf_counter() - started


def slider_seconds() -> dict[str, float]:
    """Seconds one redraw of notebook 05's dashboard takes, at two settings."""
    import matplotlib

    matplotlib.use("Agg")
    from fanoutsim.model import dashboard

    dashboard._show = lambda obj: None  # draw, but show nothing
    settings = {
        "default (50,000 subscribers)": {},
        "1,000,000 subscribers, concurrency 1": {"subscribers": 1_000_000, "concurrency": 1},
    }
    defaults = {
        "subscribers": 50_000,
        "updates_per_minute": 20.0,
        "payload_kb": 1.0,
        "strategy": "broadcast",
        "concurrency": 10,
    }
    started = time.perf_counter()
    dashboard.draw(**defaults)  # the notebook draws once when the cell runs
    timings = {"first draw (the cell running)": time.perf_counter() - started}
    for name, change in settings.items():
        runs = []
        for step in range(3):  # a slider change: new values, a figure already shown once
            values = {**defaults, **change}
            values["subscribers"] -= step * 1_000
            started = time.perf_counter()
            dashboard.draw(**values)
            runs.append(time.perf_counter() - started)
        timings[f"slider change, {name}, median of 3"] = sorted(runs)[1]
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="one notebook's stem")
    args = parser.parse_args()
    empty = {
        "cells": [
            {
                "cell_type": "code",
                "metadata": {},
                "source": "",
                "outputs": [],
                "execution_count": None,
            }
        ],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    baseline = run_all(empty)
    print(f"baseline (kernel start, one empty cell): {baseline:.1f} s")
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        if args.only and path.stem != args.only:
            continue
        seconds = run_all(json.loads(path.read_text()))
        print(f"{path.stem:<28} Run All {seconds:6.1f} s  ({seconds / baseline:5.1f}x baseline)")
    for name, seconds in slider_seconds().items():
        print(f"05 {name}: {seconds:.2f} s")


if __name__ == "__main__":
    main()
