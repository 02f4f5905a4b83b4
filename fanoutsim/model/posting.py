"""The posting phase of an update: when would each PostToConnection complete, and the throttle.

An update's posts are made by one or more *jobs* (the stream handler itself, or the chunked
fan-out's workers); a job runs ``concurrency`` lanes of sequential calls. Without the
account throttle, the k-th post (in completion order) would complete at ``t(k)`` after the
update's posting origin: the *demand curve*. Two ways to get it:

- exact: draw every call's latency and add them up along each lane (small N);
- fluid: per job, draw the first completion (min over lanes) and the last (max over lanes
  of each lane's sum, see :meth:`Distribution.max_of_sums`), spread the job's posts evenly
  in between, and add the jobs up on a grid of ``k`` (large N: O(jobs + grid) per update).

The account throttle (10,000 req/s, burst 5,000) is a token bucket shared by every post in
the account. Treated as a FIFO rate limiter (the generic cell rate algorithm), the k-th post
is served at ``S(k) = max(t(k), M(k) + (k - B) / R)`` with ``M(k) = max(X0, max_j<=k t(j) -
(j - 1) / R)``, where ``X0`` is the limiter's state left by earlier updates. That closed
form is vectorised over k and over updates; only ``X0`` is carried from update to update.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fanoutsim.model.scenario import Scenario
from fanoutsim.model.strategies import FanoutPlan
from fanoutsim.timing.distributions import FloatArray
from fanoutsim.timing.profiles import TimingProfile

__all__ = ["Demand", "exact_demand", "fluid_demand", "job_starts", "serve"]


@dataclass(frozen=True)
class Demand:
    """Unthrottled completion curves of a chunk of U updates, relative to posting origins.

    ``k`` is the grid of cumulative post counts (1..n when exact), ``t`` (U, G) the time of
    the k-th completion, ``q`` (U,) ``max_k t(k) - (k - 1) / R``, ``job_start`` (U, W) when
    each job starts, ``job_k`` (U, W) the index of each job's last post in completion order,
    and ``dispatch`` (U,) how long the coordinator takes to invoke all workers (chunked).
    """

    k: FloatArray
    t: FloatArray
    q: FloatArray
    job_start: FloatArray
    job_k: FloatArray
    dispatch: FloatArray
    exact: bool

    @property
    def posts(self) -> float:
        return float(self.k[-1])


def job_starts(
    scenario: Scenario,
    plan: FanoutPlan,
    profile: TimingProfile,
    rng: np.random.Generator,
    cold: np.ndarray,
) -> tuple[FloatArray, FloatArray]:
    """Start of each job relative to the posting origin, and the coordinator's dispatch time.

    The stream handler's single job starts at once. Chunked: the coordinator issues one
    Invoke per chunk, ``concurrency`` at a time; a worker starts after its Invoke returns,
    the async queue wait and the invoke overhead (a cold start for the updates in ``cold``).
    Beyond the Lambda concurrency quota, workers start in waves, one wave per estimated
    worker duration.
    """
    u = cold.shape[0]
    w = plan.workers
    if not w:
        return np.zeros((u, 1)), np.zeros(u)
    lanes = min(scenario.concurrency, w)
    rows = -(-w // lanes)
    calls = profile.distribution("lambda_invoke_call").sample_array(rng, (u, rows * lanes))
    done = np.cumsum(calls.reshape(u, rows, lanes), axis=1).reshape(u, rows * lanes)[:, :w]
    warm = profile.distribution("lambda_warm_overhead").sample_array(rng, (u, w))
    if cold.any():
        cold_draws = profile.distribution("lambda_cold_start").sample_array(rng, (u, w))
        warm = np.where(cold[:, None], cold_draws, warm)
    start = done + profile.distribution("lambda_invoke_async").sample_array(rng, (u, w)) + warm
    limit = scenario.quotas.lambda_concurrency
    if w > limit:
        per_worker = -(-scenario.chunk_size // scenario.concurrency)
        wave_ms = per_worker * profile.distribution("post_to_connection").mean()
        start = start + (np.arange(w) // limit)[None, :] * wave_ms
    return start, done[:, -1]


def exact_demand(
    plan: FanoutPlan,
    concurrency: int,
    profile: TimingProfile,
    rng: np.random.Generator,
    start: FloatArray,
    dispatch: FloatArray,
    rate_per_ms: float,
) -> Demand:
    """Every post's completion drawn explicitly (for small N)."""
    u = start.shape[0]
    post = profile.distribution("post_to_connection")
    times, jobs = [], []
    offset = 0
    for size in sorted(set(plan.job_sizes)):
        idx = [j for j, s in enumerate(plan.job_sizes) if s == size]
        lanes = min(concurrency, size)
        rows = -(-size // lanes)
        draws = post.sample_array(rng, (u, len(idx), rows, lanes))
        done = np.cumsum(draws, axis=2).reshape(u, len(idx), rows * lanes)[:, :, :size]
        times.append((done + start[:, idx, None]).reshape(u, -1))
        jobs.append(np.repeat(np.asarray(idx), size)[None, :].repeat(u, axis=0))
        offset += len(idx) * size
    t_all = np.concatenate(times, axis=1)
    job_all = np.concatenate(jobs, axis=1)
    order = np.argsort(t_all, axis=1, kind="stable")
    t = np.take_along_axis(t_all, order, axis=1)
    job_sorted = np.take_along_axis(job_all, order, axis=1)
    k = np.arange(1, offset + 1, dtype=np.float64)
    job_k = np.zeros((u, len(plan.job_sizes)))
    rows_idx = np.repeat(np.arange(u), offset)
    np.maximum.at(job_k, (rows_idx, job_sorted.ravel()), np.tile(k, u))
    q = np.max(t - (k - 1) / rate_per_ms, axis=1)
    return Demand(k, t, q, start, job_k, dispatch, exact=True)


def fluid_demand(
    plan: FanoutPlan,
    concurrency: int,
    profile: TimingProfile,
    rng: np.random.Generator,
    start: FloatArray,
    dispatch: FloatArray,
    rate_per_ms: float,
    grid: int,
) -> Demand:
    """Per-job first/last completion drawn from order statistics, posts spread in between."""
    post = profile.distribution("post_to_connection")
    sizes = np.asarray(plan.job_sizes, dtype=np.float64)[None, :]
    lanes = np.minimum(concurrency, sizes)
    per_lane, extra = np.floor_divide(sizes, lanes), np.mod(sizes, lanes)
    shape = start.shape
    first = start + post.sample_min(rng, np.broadcast_to(lanes, shape))
    short_lanes = post.max_of_sums(
        rng, np.broadcast_to(per_lane, shape), np.broadcast_to(lanes - extra, shape)
    )
    slowest = short_lanes
    if np.any(extra > 0):  # some lanes carry one post more than the others
        long_lanes = post.max_of_sums(
            rng, np.broadcast_to(per_lane + 1, shape), np.broadcast_to(np.maximum(extra, 1), shape)
        )
        slowest = np.where(extra > 0, np.maximum(long_lanes, short_lanes), short_lanes)
    end = start + slowest
    end = np.maximum(end, first + 1e-6)
    n = plan.posts
    k = np.linspace(0.0, n, grid)
    if shape[1] == 1:
        t = first + (end - first) * (k / n)[None, :]
        job_k = np.full(shape, float(n))
    else:
        t, job_k = _sum_of_ramps(first, end, sizes, k)
    q = np.max(t - (k - 1) / rate_per_ms, axis=1)
    return Demand(k, t, q, start, job_k, dispatch, exact=False)


def _sum_of_ramps(
    first: FloatArray, end: FloatArray, sizes: FloatArray, k: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Invert the sum of W linear ramps (job j: ``sizes[j]`` posts from first to end)."""
    u, w = first.shape
    slope = np.broadcast_to(sizes, first.shape) / (end - first)
    when = np.concatenate([first, end], axis=1)
    change = np.concatenate([slope, -slope], axis=1)
    order = np.argsort(when, axis=1, kind="stable")
    when = np.take_along_axis(when, order, axis=1)
    rate = np.cumsum(np.take_along_axis(change, order, axis=1), axis=1)
    count = np.concatenate(
        [np.zeros((u, 1)), np.cumsum(rate[:, :-1] * np.diff(when, axis=1), axis=1)], axis=1
    )
    count *= k[-1] / count[:, -1:]  # remove rounding drift: the curve ends at n posts
    t = np.empty((u, k.shape[0]))
    job_k = np.empty((u, w))
    for row in range(u):
        t[row] = np.interp(k, count[row], when[row])
        job_k[row] = np.interp(end[row], when[row], count[row])
    return t, job_k


def serve(
    demand: Demand, origin: FloatArray, x0: FloatArray, rate_per_ms: float, burst: float
) -> FloatArray:
    """Completion times ``S(k)`` (U, G) under the throttle, absolute, given each update's
    posting origin and the limiter state ``x0`` it starts from (-inf when rested)."""
    k = demand.k[None, :]
    demand_abs = origin[:, None] + demand.t
    m = np.maximum(x0[:, None], np.maximum.accumulate(demand_abs - (k - 1) / rate_per_ms, axis=1))
    served: FloatArray = np.maximum(demand_abs, m + (k - burst) / rate_per_ms)
    return served
