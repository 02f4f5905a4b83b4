"""A small Lambda runtime: invoke handlers with a Lambda-like context, time them, track cold
and warm execution environments, meter them, and keep a log of recent invocations.

The project's own handlers run in worker threads (like Lambda, each invocation has its own
environment and handlers use blocking boto3); injected delays come from the timing profile,
so the same run can show the pipeline's own cost (``instant``) or look like AWS (``aws``).
A user's function (a :class:`~fanoutsim.aws.lambda_functions.FunctionCode`) runs in child
processes speaking the Lambda Runtime API (:mod:`fanoutsim.runtime.process_functions`):
its INIT is a real process start and nothing is injected.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time
import traceback
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fanoutsim.aws.lambda_functions import FunctionCode, FunctionSpec, Handler
from fanoutsim.errors import ConfigError
from fanoutsim.feed import Feed
from fanoutsim.runtime import function_logs

if TYPE_CHECKING:
    from fanoutsim.aws.metering import Meter
    from fanoutsim.runtime.delays import Delays
    from fanoutsim.runtime.process_functions import ProcessFunctions, ProcessResult

__all__ = [
    "FunctionRuntime",
    "Invocation",
    "LambdaContext",
    "current_invocation",
    "platform_lines",
]


@dataclass
class Invocation:
    """One finished (or running) invocation, as the runtime saw it."""

    function: str
    request_id: str
    event: dict[str, Any]
    cold: bool
    started: float
    duration_ms: float = 0.0
    result: Any = None
    error: str | None = None
    trace_ids: tuple[str, ...] = ()
    attributes: dict[str, Any] = field(default_factory=dict)
    #: Set when the invocation ran past its timeout: Lambda has ended it, so the handler
    #: (still running in its thread here) may make no further AWS call.
    timed_out: bool = False
    #: What the handler printed (its CloudWatch log), newest last.
    logs: list[str] = field(default_factory=list)
    init_ms: float = 0.0  # the cold start's INIT phase, billed since 2025-08-01

    @property
    def ok(self) -> bool:
        return self.error is None


_ENDING = threading.Lock()  # a body's outcome and its timeout are decided one at a time

#: The invocation running in this thread, for metering and tracing hooks.
current_invocation: ContextVar[Invocation | None] = ContextVar("current_invocation", default=None)


class LambdaContext:
    """The attributes and method of Lambda's Python context object that handlers use."""

    def __init__(self, spec: FunctionSpec, request_id: str, region: str, account: str) -> None:
        self.function_name = spec.name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = spec.memory_mb
        self.aws_request_id = request_id
        self.invoked_function_arn = f"arn:aws:lambda:{region}:{account}:function:{spec.name}"
        self.log_group_name = f"/aws/lambda/{spec.name}"
        self.log_stream_name = f"local/{request_id[:8]}"
        self._deadline = time.monotonic() + spec.timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class FunctionRuntime:
    """Runs the registered functions; thread-safe; one instance per simulator."""

    def __init__(
        self,
        specs: Mapping[str, FunctionSpec],
        meter: Meter,
        delays: Delays,
        feed: Feed,
        *,
        region: str,
        account: str,
        max_workers: int = 16,
        log_size: int = 500,
        codes: Mapping[str, FunctionCode] | None = None,
        environment: Callable[[], dict[str, str]] | None = None,
    ) -> None:
        self.specs = dict(specs)
        unknown = sorted(set(codes or {}) - set(self.specs))
        if unknown:
            raise ConfigError(f"functions name unknown functions: {', '.join(unknown)}")
        self._handlers = {
            name: spec.load() for name, spec in self.specs.items() if name not in (codes or {})
        }
        self._processes: ProcessFunctions | None = None
        if codes:
            from fanoutsim.runtime.process_functions import ProcessFunctions

            self._processes = ProcessFunctions(
                codes,
                self.specs,
                environment or dict,
                region=region,
                account=account,
            )
        self._meter = meter
        self._delays = delays
        self._feed = feed
        self._region = region
        self._account = account
        self._idle = dict.fromkeys(self.specs, 0)
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="lambda")
        # Handler bodies; more threads than invokers, as a timed-out body may run on until
        # its next AWS call is refused.
        self._bodies = ThreadPoolExecutor(
            max_workers=2 * max_workers, thread_name_prefix="lambda-body"
        )
        self.log: deque[Invocation] = deque(maxlen=log_size)
        #: Called in the handler's thread before it runs (a fault plan's seam); what it
        #: raises is the invocation's error.
        self.before_handler: Callable[[Invocation], None] | None = None
        function_logs.install(current_invocation)

    def arn(self, name: str) -> str:
        return f"arn:aws:lambda:{self._region}:{self._account}:function:{name}"

    def replace(self, name: str, handler: Handler) -> None:
        """Deploy a new version of ``name`` (its warm environments are discarded)."""
        if name not in self.specs:
            raise ConfigError(f"no function named {name!r}")
        if self._processes is not None and name in self._processes:
            raise ConfigError(
                f"{name} runs the code you gave it in a process; it cannot be replaced"
            )
        with self._lock:
            self._handlers[name] = handler
            self._idle[name] = 0

    def _take_environment(self, name: str) -> bool:
        """Reuse an idle environment if there is one; return True for a cold start."""
        with self._lock:
            if self._idle[name] > 0:
                self._idle[name] -= 1
                return False
            return True

    def _release_environment(self, name: str) -> None:
        with self._lock:
            self._idle[name] += 1

    def invoke(
        self, name: str, event: dict[str, Any], trace_ids: tuple[str, ...] = ()
    ) -> Invocation:
        """Invoke ``name`` synchronously in the calling thread and return what happened."""
        if name not in self.specs:
            raise ConfigError(f"no function named {name!r}")
        if self._processes is not None and name in self._processes:
            return self._invoke_process(name, event, trace_ids)
        spec = self.specs[name]
        cold = self._take_environment(name)
        slept = self._delays.sleep("lambda_cold_start" if cold else "lambda_warm_overhead")
        request_id = str(uuid.uuid4())
        invocation = Invocation(
            name, request_id, event, cold, time.perf_counter(), trace_ids=trace_ids
        )
        invocation.init_ms = slept * 1000 if cold else 0.0
        context = LambdaContext(spec, request_id, self._region, self._account)
        if spec.start_point is not None:
            self._feed.passed(spec.start_point, trace_ids)
        body = contextvars.copy_context()
        body.run(current_invocation.set, invocation)
        running = self._bodies.submit(
            body.run, self._run, self._handlers[name], invocation, context
        )
        try:
            running.result(timeout=spec.timeout_s)
        except TimeoutError:
            # Lambda stops the invocation here: the result is lost, what it already did
            # stays done, and the environment is not reused (the next start is cold).
            with _ENDING:
                invocation.timed_out = True
                invocation.result = None
                invocation.error = f"Task timed out after {spec.timeout_s:.2f} seconds"
            invocation.duration_ms = spec.timeout_s * 1000
        else:
            invocation.duration_ms = (time.perf_counter() - invocation.started) * 1000
            self._release_environment(name)
        return self._finish(spec, invocation)

    def _finish(self, spec: FunctionSpec, invocation: Invocation) -> Invocation:
        """Meter, log and announce an ended invocation."""
        self._meter.invocation(
            spec.name,
            invocation.duration_ms,
            spec.memory_mb,
            cold=invocation.cold,
            error=not invocation.ok,
            init_ms=invocation.init_ms,
        )
        self.log.append(invocation)
        if spec.end_point is not None:
            self._feed.passed(spec.end_point, invocation.trace_ids)
        self._feed.changed("invocation", invocation)
        return invocation

    def _invoke_process(
        self, name: str, event: dict[str, Any], trace_ids: tuple[str, ...]
    ) -> Invocation:
        """Run a user's function in an execution environment process."""
        assert self._processes is not None
        spec = self.specs[name]
        request_id = str(uuid.uuid4())
        invocation = Invocation(
            name, request_id, event, False, time.perf_counter(), trace_ids=trace_ids
        )
        if spec.start_point is not None:
            self._feed.passed(spec.start_point, trace_ids)
        try:
            if self.before_handler is not None:
                self.before_handler(invocation)
        except Exception as error:  # a fault plan's injected failure
            invocation.error = f"{type(error).__name__}: {error}"
            return self._finish(spec, invocation)
        trace = f"Root=1-{int(time.time()):08x}-{request_id.replace('-', '')[:24]};Sampled=0"
        ran = self._processes.invoke(name, event, request_id, trace)
        invocation.cold, invocation.init_ms = ran.cold, ran.init_ms
        if ran.outcome is None:
            invocation.timed_out = True
            invocation.error = f"Task timed out after {spec.timeout_s:.2f} seconds"
            invocation.duration_ms = spec.timeout_s * 1000
        else:
            invocation.duration_ms = ran.duration_ms
            invocation.result = ran.outcome.result
            invocation.error = ran.outcome.error
            if ran.outcome.stack:
                invocation.attributes["traceback"] = "\n".join(ran.outcome.stack)
        invocation.logs = platform_lines(invocation, spec, ran)
        return self._finish(spec, invocation)

    def _run(self, handler: Handler, invocation: Invocation, context: LambdaContext) -> None:
        """The handler's body, in its own thread so that a timeout can cut it off."""
        before = self.before_handler
        try:
            if before is not None:
                before(invocation)
            result = handler(invocation.event, context)
        except Exception as error:
            with _ENDING:
                if not invocation.timed_out:  # a cut-off body's errors are nobody's
                    invocation.error = f"{type(error).__name__}: {error}"
                    invocation.attributes["traceback"] = traceback.format_exc()
        else:
            with _ENDING:
                if not invocation.timed_out:
                    invocation.result = result

    async def invoke_async(
        self, name: str, event: dict[str, Any], trace_ids: tuple[str, ...] = ()
    ) -> Invocation:
        """Invoke on a worker thread without blocking the event loop."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self.invoke, name, event, trace_ids)

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
        self._bodies.shutdown(wait=True, cancel_futures=True)
        if self._processes is not None:
            self._processes.close()
        function_logs.uninstall()


def platform_lines(invocation: Invocation, spec: FunctionSpec, ran: ProcessResult) -> list[str]:
    """The invocation's log as CloudWatch shows it: START, what the code printed, an error
    summary, END and REPORT (with Init Duration on a cold start)."""
    rid = invocation.request_id
    lines = [f"START RequestId: {rid} Version: $LATEST", *ran.logs]
    if invocation.timed_out:
        lines.append(f"{rid} Task timed out after {spec.timeout_s:.2f} seconds")
    elif invocation.error is not None:
        lines.append(f"{rid} ERROR {invocation.error}")
    billed = max(1, int(-(-invocation.duration_ms // 1)))
    report = (
        f"REPORT RequestId: {rid} Duration: {invocation.duration_ms:.2f} ms Billed Duration: "
        f"{billed} ms Memory Size: {spec.memory_mb} MB Max Memory Used: {ran.peak_memory_mb} MB"
    )
    if invocation.cold:
        report += f" Init Duration: {invocation.init_ms:.2f} ms"
    return [*lines, f"END RequestId: {rid}", report]
