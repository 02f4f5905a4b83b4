"""The virtual-time fan-out model: one call from a scenario to latency and cost.

:func:`simulate` places ``scenario.updates`` status updates on a virtual timeline, drawing
every delay from the same timing profile the live simulator injects, and meters them the
way AWS bills them. It runs in three phases:

1. vectorised draws per update: EventBridge delivery, the view-model write, the wait for
   the stream poll, lookups, and each update's posting demand curve
   (:mod:`fanoutsim.model.posting`), in chunks of updates to bound memory;
2. a scalar pass through the single stream consumer and the throttle
   (:mod:`fanoutsim.model.timeline`);
3. vectorised again: completion times under the throttle, first/last receipts
   (:mod:`fanoutsim.model.receipts`), per-delivery stage samples and billed durations.

Small fan-outs (at most ``EXACT_POSTS`` posts per update) draw every call; larger ones use
order statistics, so a million subscribers cost the same as a thousand. Deterministic for
a given seed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np

from fanoutsim.aws.pricing import PriceTable, load_prices
from fanoutsim.model import costing
from fanoutsim.model.posting import Demand, exact_demand, fluid_demand, job_starts, serve
from fanoutsim.model.receipts import NetworkTable, draw_last_and_first
from fanoutsim.model.result import ModelResult
from fanoutsim.model.scenario import Scenario
from fanoutsim.model.strategies import FanoutPlan, plan
from fanoutsim.model.timeline import StreamInputs, run_consumer
from fanoutsim.stats import percentiles
from fanoutsim.timing.distributions import FloatArray
from fanoutsim.timing.profiles import TimingProfile, load_profile

__all__ = [
    "CHUNK_BYTES",
    "DELIVERY_SAMPLES",
    "EXACT_POSTS",
    "EXACT_TOTAL",
    "GRID_MANY_JOBS",
    "GRID_ONE_JOB",
    "MAX_STAGE_SAMPLES",
    "simulate",
]

EXACT_POSTS: Final = 2_048  # posts per update up to which every call is drawn
EXACT_TOTAL: Final = 4_000_000  # ... as long as all updates together stay below this
GRID_ONE_JOB: Final = 33
GRID_MANY_JOBS: Final = 257
DELIVERY_SAMPLES: Final = 64  # per update, for per-delivery stage percentiles (large N)
MAX_STAGE_SAMPLES: Final = 2_000_000
CHUNK_BYTES: Final = 64 << 20  # memory budget of one chunk of updates' arrays


@dataclass
class _Stages:
    """Per-delivery samples gathered chunk by chunk."""

    post: list[FloatArray]
    network: list[FloatArray]
    end_to_end: list[FloatArray]


def simulate(
    scenario: Scenario,
    profile: TimingProfile | str | Path = "aws",
    prices: PriceTable | str | Path | None = None,
    seed: int = 0,
    *,
    exact: bool | None = None,
) -> ModelResult:
    """Model ``scenario`` under ``profile`` and ``prices``; the same seed gives the same result.

    ``exact`` forces (True) or forbids (False) drawing every PostToConnection call; by
    default it is used when the run is small enough.
    """
    prof = profile if isinstance(profile, TimingProfile) else load_profile(profile)
    prof = prof.for_stream(scenario.stream)  # the feed's poll interval and stream stage
    table = prices if isinstance(prices, PriceTable) else load_prices(prices)
    fan = plan(scenario)
    u = scenario.updates
    use_exact = _use_exact(fan, u) if exact is None else exact
    chunks = _chunks(fan, u, use_exact)
    # independent streams: one for the per-update stages, two per chunk of updates (its
    # demand curves, then its receipts), so the result depends on the seed alone
    front_seed, *chunk_seeds = np.random.SeedSequence(seed).spawn(1 + len(chunks))
    front_rng = np.random.default_rng(front_seed)
    rngs = [tuple(np.random.default_rng(s) for s in c.spawn(2)) for c in chunk_seeds]
    rate = scenario.quotas.connections_rps / 1000.0
    burst = scenario.quotas.connections_burst

    # phase 1a: per-update stages before the posting
    dist = prof.distribution
    put = np.arange(u, dtype=np.float64) * scenario.interval_ms
    eventbridge = dist("eventbridge_delivery").sample_array(front_rng, u)
    invoke = dist("lambda_warm_overhead").sample_array(front_rng, u)
    cold_ms = dist("lambda_cold_start").sample_array(front_rng, 2) if scenario.cold_start else None
    if cold_ms is not None:
        invoke[0] = cold_ms[0]
    handler_start = put + eventbridge + invoke
    write = dist("dynamodb_write").sample_array(front_rng, u)
    table_write = handler_start + write
    ready = table_write + prof.poll_wait_ms(front_rng, u)
    lookup = dist("dynamodb_read").sample_sums(front_rng, np.full(u, fan.lookup_pages))
    residual = dist("stream_to_function").sample_array(front_rng, u)
    overhead = dist("lambda_warm_overhead").sample_array(front_rng, u)

    # phase 1b: posting demand per chunk of updates
    demands = [
        _demand(scenario, fan, prof, rngs[c][0], sl, use_exact, rate) for c, sl in enumerate(chunks)
    ]
    q = np.concatenate([d.q for d in demands]) if fan.posts else np.zeros(u)
    last = np.concatenate([d.t[:, -1] for d in demands]) if fan.posts else np.zeros(u)
    dispatch = np.concatenate([d.dispatch for d in demands]) if fan.posts else np.zeros(u)

    # phase 2: the stream consumer and the throttle, in update order
    timeline = run_consumer(
        StreamInputs(
            ready=ready,
            residual=residual,
            overhead=overhead,
            cold_start=float(cold_ms[1]) if cold_ms is not None else 0.0,
            lookup=lookup,
            q=q,
            last=last,
            dispatch=dispatch,
        ),
        posts=fan.posts,
        batch_size=scenario.batch_size,
        per_record_lookup=fan.lookup_per_record,
        chunked=fan.workers > 0,
        rate_per_ms=rate,
        burst=burst,
        timeout_ms=scenario.lambda_timeout_s * 1000,
    )

    # phase 3: throttled completions, receipts, billed durations
    net = dist("client_network")
    net_table = None if net.is_fixed else NetworkTable.of(net)
    first = np.full(u, np.nan)
    final = np.full(u, np.nan)
    incomplete = timeline.incomplete.copy()
    worker_ms = 0.0
    samples = _Stages([], [], [])
    per_update = max(1, min(DELIVERY_SAMPLES, MAX_STAGE_SAMPLES // u))
    for c, sl in enumerate(chunks):
        if not fan.posts:
            break
        demand, rng = demands[c], rngs[c][1]
        origin, x0 = timeline.origin[sl], timeline.x0[sl]
        served = serve(demand, origin, x0, rate, burst)
        if fan.workers:
            cut, billed = _workers(demand, served, origin, scenario.lambda_timeout_s)
            incomplete[sl] |= cut
            worker_ms += billed
        start = timeline.fanout_start[sl]
        if demand.exact:
            delay = net.sample_array(rng, served.shape)
            receipt = served + delay
            final[sl], first[sl] = receipt.max(axis=1), receipt.min(axis=1)
            rows, cols = _subsample(rng, served.shape, per_update)
            post_s, net_s = served[rows, cols] - start[:, None], delay[rows, cols]
        else:
            final[sl], first[sl] = draw_last_and_first(demand.k, served, net, net_table, rng)
            post_abs = _at_random_k(rng, demand.k, served, per_update)
            post_s = post_abs - start[:, None]
            net_s = net.sample_array(rng, post_s.shape)
        samples.post.append(post_s.ravel())
        samples.network.append(net_s.ravel())
        samples.end_to_end.append((post_s + net_s + (start - put[sl])[:, None]).ravel())
    final[incomplete] = np.inf
    first[timeline.skipped] = np.inf

    stage_values = {
        "eventbridge": handler_start - put,
        "view_model_write": write,
        "stream_delay": timeline.stream_record - table_write,
        "batch_to_invoke": timeline.fanout_start - timeline.stream_record,
        "post": _cat(samples.post),
        "client_network": _cat(samples.network),
        "end_to_end": _cat(samples.end_to_end),
    }
    return costing.assemble(
        scenario=scenario,
        profile=prof,
        prices=table,
        fan=fan,
        seed=seed,
        exact=use_exact,
        time_to_first=first - put,
        time_to_last=final - put,
        stages={name: percentiles(v) for name, v in stage_values.items()},
        timeline=timeline,
        write_ms=write,
        worker_billed_ms=worker_ms,
        incomplete=int(incomplete.sum()),
    )


def _use_exact(fan: FanoutPlan, updates: int) -> bool:
    return fan.posts <= EXACT_POSTS and fan.posts * updates <= EXACT_TOTAL


def _chunks(fan: FanoutPlan, updates: int, exact: bool) -> list[slice]:
    width = max(fan.posts if exact else GRID_MANY_JOBS, 3 * max(1, fan.workers), 1)
    step = max(1, min(updates, CHUNK_BYTES // (8 * 4 * width)))
    return [slice(i, min(i + step, updates)) for i in range(0, updates, step)]


def _demand(
    scenario: Scenario,
    fan: FanoutPlan,
    profile: TimingProfile,
    rng: np.random.Generator,
    sl: slice,
    exact: bool,
    rate: float,
) -> Demand:
    n = sl.stop - sl.start
    if not fan.posts:
        zeros = np.zeros((n, 1))
        return Demand(np.zeros(1), zeros, np.zeros(n), zeros, zeros, np.zeros(n), exact)
    cold = np.zeros(n, dtype=bool)
    if scenario.cold_start and sl.start == 0:
        cold[0] = True
    start, dispatch = job_starts(scenario, fan, profile, rng, cold)
    if exact:
        return exact_demand(fan, scenario.concurrency, profile, rng, start, dispatch, rate)
    grid = GRID_MANY_JOBS if fan.workers > 1 else GRID_ONE_JOB
    return fluid_demand(fan, scenario.concurrency, profile, rng, start, dispatch, rate, grid)


def _workers(
    demand: Demand, served: FloatArray, origin: FloatArray, timeout_s: float
) -> tuple[np.ndarray, float]:
    """Updates with a worker past the Lambda timeout, and the workers' billed ms in total.

    A worker ends when its last post is served (FIFO through the throttle)."""
    done = np.empty(demand.job_k.shape)
    for row in range(served.shape[0]):
        done[row] = np.interp(demand.job_k[row], demand.k, served[row])
    duration = done - (origin[:, None] + demand.job_start)
    cut = np.asarray((duration > timeout_s * 1000).any(axis=1))
    billed = np.maximum(1.0, np.ceil(np.minimum(duration, timeout_s * 1000)))
    return cut, float(billed.sum())


def _subsample(
    rng: np.random.Generator, shape: tuple[int, ...], per_row: int
) -> tuple[np.ndarray, np.ndarray]:
    """Index arrays picking ``per_row`` random columns of every row (every column if fewer)."""
    rows, cols = shape
    if cols > per_row:
        pick = rng.integers(0, cols, (rows, per_row))
    else:
        pick = np.tile(np.arange(cols), (rows, 1))
    return np.arange(rows)[:, None] + np.zeros_like(pick), pick


def _at_random_k(rng: np.random.Generator, k: FloatArray, served: FloatArray, m: int) -> FloatArray:
    """Completion times of ``m`` uniformly chosen posts per row (grid ``k`` is uniform)."""
    rows, g = served.shape
    pos = rng.random((rows, m)) * (g - 1)
    lo = np.minimum(pos.astype(np.int64), g - 2)
    frac = pos - lo
    left = np.take_along_axis(served, lo, axis=1)
    right = np.take_along_axis(served, lo + 1, axis=1)
    out: FloatArray = left + (right - left) * frac
    return out


def _cat(parts: list[FloatArray]) -> FloatArray:
    return np.concatenate(parts) if parts else np.zeros(0)
