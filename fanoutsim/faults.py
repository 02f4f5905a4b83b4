"""Faults on demand: one plan of what goes wrong, and the injector that makes it happen.

A :class:`FaultPlan` says what to break; the :class:`FaultInjector` hooks into the stack's
seams (the function runtime before a handler runs, the ``@connections`` verdict, the
stream handler's calls, the simulated clients) and counts what it did, so the report can
set every (update, subscriber) pair's outcome beside its cause. Nothing here changes a
handler: the faults come from outside, as on AWS.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from fanoutsim.aws.management import ManagementApi, error
from fanoutsim.aws.stream_records import StreamRecord
from fanoutsim.errors import ConfigError, InjectedFault, ManagementError
from fanoutsim.runtime.function_runtime import FunctionRuntime, Invocation, current_invocation
from fanoutsim.runtime.instrumentation import session_events

__all__ = ["FaultInjector", "FaultPlan"]

STREAM_FUNCTION = "stream_fanout"
_POST_EVENT = "before-parameter-build.apigatewaymanagementapi.PostToConnection"
_HOOK_ID = "fanoutsim-faults"
_MAX_TRACKED = 10_000  # invocations whose posts are counted at once


@dataclass(frozen=True)
class FaultPlan:
    """What to break (all off by default).

    - ``function_error_rate``: the share of stream handler invocations that fail at once;
    - ``fail_on_record``: the stream handler invocation holding the N-th stream record
      (counted from 1) fails, once;
    - ``post_error_rate`` / ``post_throttle_rate``: the share of PostToConnection calls
      answered 500 ``InternalServerErrorException`` / 429 ``LimitExceededException``;
    - ``fail_posts`` after ``fail_posts_after``: once that many posts went through, the
      next N are answered 500 in a row (boto3 retries a 5xx by itself, three attempts in
      its default ``standard`` mode, so it takes three in a row before the stream handler
      sees an error: partial batch failures, retries and duplicate deliveries follow);
    - ``drop_clients`` after ``drop_after_posts``: that many clients lose their network
      (no ``$disconnect``) just before the run's N-th post, in the middle of a fan-out;
    - ``stall_invocations`` after ``stall_after_posts``: the first N stream handler
      invocations hang after that many posts until their timeout cuts them off;
    - ``slow_clients`` read each message ``slow_client_s`` late (the newest clients).
    """

    function_error_rate: float = 0.0
    fail_on_record: int | None = None
    post_error_rate: float = 0.0
    post_throttle_rate: float = 0.0
    fail_posts: int = 0
    fail_posts_after: int = 0
    drop_clients: int = 0
    drop_after_posts: int = 1
    stall_invocations: int = 0
    stall_after_posts: int = 1
    slow_clients: int = 0
    slow_client_s: float = 0.5
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("function_error_rate", "post_error_rate", "post_throttle_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ConfigError(f"{name} must be from 0 to 1")
        if self.post_error_rate + self.post_throttle_rate > 1.0:
            raise ConfigError("post_error_rate + post_throttle_rate must be at most 1")
        if self.fail_on_record is not None and self.fail_on_record < 1:
            raise ConfigError("fail_on_record counts from 1")
        for name in ("drop_clients", "stall_invocations", "slow_clients", "fail_posts"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name} must be >= 0")
        for name in ("drop_after_posts", "stall_after_posts"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be >= 1")
        if self.fail_posts_after < 0:
            raise ConfigError("fail_posts_after must be >= 0")
        if not 0.0 < self.slow_client_s <= 60.0:
            raise ConfigError("slow_client_s must be from 0 to 60 s")

    @property
    def active(self) -> bool:
        return self != FaultPlan(seed=self.seed)


#: Cut clients: called on any thread with how many to cut; returns the names it cut.
Severer = Callable[[int], list[str]]


@dataclass
class _Counts:
    function_errors: int = 0
    record_failures: int = 0
    posts_failed: int = 0
    posts_throttled: int = 0
    clients_dropped: list[str] = field(default_factory=list)
    stalls: int = 0


class FaultInjector:
    """Applies a :class:`FaultPlan` to one stack; :meth:`use` swaps the plan at any time."""

    def __init__(self, runtime: FunctionRuntime, api: ManagementApi, sever: Severer) -> None:
        self._runtime = runtime
        self._api = api
        self._sever = sever
        self._lock = threading.Lock()
        self.plan = FaultPlan()
        self._counts = _Counts()
        self._rng = random.Random(0)
        self._records_seen = 0  # stream records the handler has been given, retries aside
        self._highest_seen = -1  # the highest sequence number among them
        self._posts = 0
        self._verdicts = 0  # posts that reached @connections under this plan
        self._posts_by_invocation: dict[str, int] = {}
        self._events: Any = None

    def install(self) -> None:
        self._runtime.before_handler = self._before_handler
        self._api.chaos = self._verdict
        self._events = session_events()
        self._events.register(_POST_EVENT, self._before_post, unique_id=_HOOK_ID)

    def uninstall(self) -> None:
        self._runtime.before_handler = None
        self._api.chaos = None
        if self._events is not None:
            self._events.unregister(_POST_EVENT, unique_id=_HOOK_ID)
            self._events = None

    def use(self, plan: FaultPlan) -> None:
        """Follow ``plan`` from now on (its counts start again)."""
        with self._lock:
            self.plan = plan
            self._counts = _Counts()
            self._rng = random.Random(plan.seed)
            self._records_seen, self._highest_seen = 0, -1
            self._posts = self._verdicts = 0
            self._posts_by_invocation.clear()

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            counts = asdict(self._counts)
            return {"plan": asdict(self.plan), "injected": counts} if self.plan.active else {}

    # ----------------------------------------------------------------- seams
    def _before_handler(self, invocation: Invocation) -> None:
        """In the handler's thread, before it runs: fail it if the plan says so."""
        if invocation.function != STREAM_FUNCTION:
            return
        plan = self.plan
        if plan.fail_on_record is None and not plan.function_error_rate:
            return
        with self._lock:
            # sequence numbers grow along the shard: a retry's records are not new
            numbers = [
                int(StreamRecord(r).sequence_number) for r in invocation.event.get("Records", [])
            ]
            fresh = [n for n in numbers if n > self._highest_seen]
            before = self._records_seen
            self._records_seen += len(fresh)
            self._highest_seen = max([self._highest_seen, *fresh])
            if plan.fail_on_record is not None and before < plan.fail_on_record <= before + len(
                fresh
            ):
                self._counts.record_failures += 1
                raise InjectedFault(f"injected failure on stream record {plan.fail_on_record}")
            if plan.function_error_rate and self._rng.random() < plan.function_error_rate:
                self._counts.function_errors += 1
                raise InjectedFault("injected function error")

    def _verdict(self, connection_id: str) -> ManagementError | None:
        """The @connections answer to one post, if the plan breaks it."""
        plan = self.plan
        if not (plan.post_error_rate or plan.post_throttle_rate or plan.fail_posts):
            return None
        with self._lock:
            seen, self._verdicts = self._verdicts, self._verdicts + 1
            if plan.fail_posts_after <= seen < plan.fail_posts_after + plan.fail_posts:
                self._counts.posts_failed += 1
                return error("InternalServerErrorException", "Internal server error (injected)")
            draw = self._rng.random() if plan.post_error_rate or plan.post_throttle_rate else 1
            if draw < plan.post_throttle_rate:
                self._counts.posts_throttled += 1
                return error("LimitExceededException", "Rate exceeded (injected)")
            if draw < plan.post_throttle_rate + plan.post_error_rate:
                self._counts.posts_failed += 1
                return error("InternalServerErrorException", "Internal server error (injected)")
        return None

    def _before_post(self, **_: Any) -> None:
        """In the stream handler's threads, before each post: drop clients, stall."""
        plan = self.plan
        if not (plan.drop_clients or plan.stall_invocations):
            return
        invocation = current_invocation.get()
        with self._lock:
            self._posts += 1
            drop = plan.drop_clients and self._posts == plan.drop_after_posts
            stall = False
            if invocation is not None and self._counts.stalls < plan.stall_invocations:
                if len(self._posts_by_invocation) > _MAX_TRACKED:
                    self._posts_by_invocation.clear()
                done = self._posts_by_invocation.get(invocation.request_id, 0)
                self._posts_by_invocation[invocation.request_id] = done + 1
                if done == plan.stall_after_posts:  # one stall per invocation
                    self._counts.stalls += 1
                    stall = True
        if drop:
            cut = self._sever(plan.drop_clients)
            with self._lock:
                self._counts.clients_dropped.extend(cut)
        if stall and invocation is not None:
            # past the function's timeout: Lambda cuts the invocation off meanwhile
            time.sleep(self._runtime.specs[invocation.function].timeout_s + 0.5)
