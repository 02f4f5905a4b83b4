"""``fanoutsim calibrate``: a short measured workload on the deployed stack, fitted into a
timing profile file, so the cost and latency model runs on the user's own figures.

One subscriber, the sample flights, then ``updates`` scripted status updates one at a time
(each waited for, so no update queues behind another) after :data:`WARM_UP` that are not
counted (their cold starts are not the warm chain being fitted), and ``pings`` WebSocket
pings. Each update's time runs from ``PutEvents`` reaching AWS (half its round trip after
sending: the upload from this machine is not the pipeline's) to the probe's receipt. The
fitting is :mod:`fanoutsim.timing.calibration`'s. A simulator attached as if deployed is
labelled as measured locally, never as a region.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from fanoutsim.deploy.remote import DeployedStack
from fanoutsim.sample_flights import sample_flights, scripted_day
from fanoutsim.timing.calibration import Calibration, fit_profile, profile_toml
from fanoutsim.timing.profiles import load_profile

__all__ = ["WARM_UP", "calibrate", "default_out", "measure"]

#: Updates published first and not counted: cold starts and new connections' first calls.
WARM_UP = 2


def default_out(stack_name: str, region: str) -> Path:
    """Where a calibration is written unless named: this folder, after stack and region."""
    return Path(f"{stack_name}-{region}.toml")


def measure(
    remote: DeployedStack,
    updates: int = 30,
    pings: int = 30,
    progress: Callable[[str], None] = print,
) -> tuple[list[float], list[float]]:
    """End-to-end times (ms, PutEvents sent -> receipt) of ``updates`` updates to one
    probe subscriber of its own (following every sample flight, so per-flight fan-out sends
    it each one), and ``pings`` ping round trips (ms) from it."""
    probe = remote.clients.add(1, flights=[f.flight_id for f in sample_flights()])[0]
    try:
        remote.flights.load()
        script = scripted_day()
        latencies: list[float] = []
        for i in range(-WARM_UP, updates):
            flight_id, status, details = script[i % len(script)]
            trace = remote.flights.publish(flight_id, status, details)
            remote.wait()
            timeline = remote.timeline(trace)
            received = timeline.per_connection["receipt"].get(probe.name)
            if received is not None and i >= 0:
                upload = remote.flights.upload_ms.get(trace, 0.0)
                latencies.append((received - timeline.points["put_events"]) * 1000 - upload)
            if i >= 0 and ((i + 1) % 10 == 0 or i + 1 == updates):
                progress(f"measured {i + 1}/{updates} updates")
        return latencies, remote.ping_rtts(pings, client=probe.name)
    finally:
        remote.clients.leave([probe.name])


def calibrate(
    remote: DeployedStack,
    region: str,
    out: Path,
    *,
    base: str = "aws",
    updates: int = 30,
    pings: int = 30,
    progress: Callable[[str], None] = print,
) -> Calibration:
    """Measure, fit, and write the profile to ``out`` (a ``.toml`` file)."""
    latencies, rtts = measure(remote, updates, pings, progress)
    day = datetime.now(UTC).date().isoformat()
    place = "locally, on the simulator (not AWS)" if remote.local else f"in {region}"
    where = f"measured {place} on {day}"
    result = fit_profile(load_profile(base), latencies, rtts, where=where)
    name = out.stem
    source = f"{where} from this machine; stages not measurable from a client keep profile {base!r}"
    out.write_text(profile_toml(result.profile, name, source, day))
    (m50, m99), (q50, q99) = result.measured_ms, result.modelled_ms
    progress(
        f"wrote {out}: end to end p50 {m50:.0f} / p99 {m99:.0f} ms measured, "
        f"{q50:.0f} / {q99:.0f} ms modelled"
    )
    return result
