"""One execution environment as Lambda runs it: a child process polling its own Runtime API.

The environment serves the Lambda Runtime API (:mod:`fanoutsim.aws.runtime_api`) on a
loopback port of its own (``AWS_LAMBDA_RUNTIME_API``), starts the runtime program for the
function's language, and hands it one event at a time. INIT is the real process start,
up to its first ``next``; a runtime that reports an init error, exits, or outlives its
invocation's deadline is finished (killed), and the next invocation starts a new one, as
on AWS. What the process prints is its log. Everything here runs on the process pool's
event loop except the two reader threads (output and exit).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import select
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from fanoutsim.aws import runtime_api
from fanoutsim.runtime.http_server import HttpServer, Limits, Request, Response

__all__ = ["MAX_LOG_LINES", "Environment", "Job", "Outcome"]

#: Lines of output kept per invocation (and for INIT); more are counted, not kept.
MAX_LOG_LINES: Final = 1000
#: Longest log line kept (Lambda cuts CloudWatch events at 256 KB; this is a laptop).
MAX_LINE_CHARS: Final = 8192


@dataclass
class Outcome:
    """How one invocation (or an INIT) ended."""

    result: Any = None
    error_type: str | None = None
    error_message: str = ""
    stack: list[str] = field(default_factory=list)

    @property
    def error(self) -> str | None:
        if self.error_type is None:
            return None
        return f"{self.error_type}: {self.error_message}" if self.error_message else self.error_type


@dataclass
class Job:
    """An invocation handed to the environment."""

    request_id: str
    event: bytes
    deadline_epoch_ms: int
    function_arn: str
    trace_id: str
    done: asyncio.Future[Outcome] | None = None  # made on the loop by Environment.invoke


class Environment:
    """A child process and the Runtime API it polls; one invocation at a time."""

    def __init__(self, command: Sequence[str], env: Mapping[str, str], cwd: str) -> None:
        self._command, self._env, self._cwd = list(command), dict(env), cwd
        self._server = HttpServer(
            self._handle, "127.0.0.1", 0, Limits(request_timeout_s=10, max_connections=8)
        )
        self._jobs: asyncio.Queue[Job] = asyncio.Queue(maxsize=1)
        self._current: Job | None = None
        self._ready: asyncio.Future[Outcome | None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self._lines: list[str] = []
        self._dropped = 0
        self._lines_lock = threading.Lock()
        self.started = 0.0
        self.api_url = ""

    # ----------------------------------------------------------------- lifecycle
    async def start(self) -> None:
        """Listen, then start the runtime process (INIT begins)."""
        self._loop = asyncio.get_running_loop()
        self._ready = self._loop.create_future()
        await self._server.start()
        address = f"127.0.0.1:{self._server.port}"
        #: The API's base URL, as a runtime builds it from ``AWS_LAMBDA_RUNTIME_API``.
        self.api_url = f"http://{address}/2018-06-01/runtime"
        env = self._env | {"AWS_LAMBDA_RUNTIME_API": address}
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            self._command,
            cwd=self._cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        threading.Thread(target=self._read_output, name="lambda-log", daemon=True).start()
        threading.Thread(target=self._watch_exit, name="lambda-exit", daemon=True).start()

    async def ready(self, timeout_s: float) -> Outcome | None:
        """Wait for INIT to end: None when the runtime asks for its first event, else the
        init error (reported, an exit, or the INIT timeout)."""
        assert self._ready is not None
        try:
            return await asyncio.wait_for(asyncio.shield(self._ready), timeout_s)
        except TimeoutError:
            self.kill()
            return Outcome(None, "Runtime.InitTimeout", f"INIT took longer than {timeout_s:g} s")

    async def invoke(self, job: Job, timeout_s: float) -> Outcome | None:
        """Hand ``job`` to the runtime and wait for its outcome; None when the deadline
        passed (the process is killed: Lambda ends a timed-out environment)."""
        job.done = asyncio.get_running_loop().create_future()
        await self._jobs.put(job)
        try:
            return await asyncio.wait_for(asyncio.shield(job.done), timeout_s)
        except TimeoutError:
            self.kill()
            return None

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """End the process and anything it started (it may have ended on its own since
        :attr:`alive` was read: that is not an error)."""
        if self.alive:
            assert self.process is not None
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)

    async def close(self) -> None:
        self.kill()
        await self._server.close()

    def peak_memory_mb(self) -> int:
        """The process's peak resident memory (Linux ``VmHWM``), as REPORT's Max Memory Used."""
        if self.process is None:
            return 0
        try:
            with open(f"/proc/{self.process.pid}/status", encoding="ascii") as status:
                for line in status:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) // 1024
        except OSError:
            pass
        return 0

    # ----------------------------------------------------------------- the Runtime API
    def _handle(self, request: Request) -> Response | Any:
        call = runtime_api.parse_call(request.method, request.path)
        if call is None:
            return Response(404, runtime_api.error_body("not found", "InvalidRequest"))
        if call.kind == "next":
            self._settle_ready(None)
            return self._next()
        if call.kind == "init-error":
            kind, message, stack = runtime_api.read_error(request.body, dict(request.headers))
            self._settle_ready(Outcome(None, kind, message, stack))
            return Response(202, b'{"status":"OK"}')
        job = self._current
        if job is None or job.done is None or job.request_id != call.request_id or job.done.done():
            return Response(400, runtime_api.error_body("unknown request id", "InvalidRequestID"))
        if call.kind == "error":
            kind, message, stack = runtime_api.read_error(request.body, dict(request.headers))
            job.done.set_result(Outcome(None, kind, message, stack))
        elif len(request.body) > runtime_api.MAX_RESPONSE_BYTES:
            limit = runtime_api.MAX_RESPONSE_BYTES
            message = f"Response payload size ({len(request.body)} bytes) exceeded {limit}"
            job.done.set_result(Outcome(None, "Function.ResponseSizeTooLarge", message))
            return Response(413, runtime_api.error_body(message, "RequestEntityTooLarge"))
        else:
            try:
                job.done.set_result(Outcome(json.loads(request.body or b"null")))
            except ValueError:
                job.done.set_result(Outcome(None, "Runtime.InvalidResponse", "not JSON"))
        return Response(202, b'{"status":"OK"}')

    async def _next(self) -> Response:
        job = await self._jobs.get()
        self._current = job
        headers = runtime_api.invocation_headers(
            job.request_id, job.deadline_epoch_ms, job.function_arn, job.trace_id
        )
        return Response(200, job.event, headers)

    def _settle_ready(self, outcome: Outcome | None) -> None:
        if self._ready is not None and not self._ready.done():
            self._ready.set_result(outcome)

    # ----------------------------------------------------------------- the process's side
    def _exited(self, code: int) -> None:
        """On the loop: the process ended; whatever it owed fails."""
        how = f"signal: {signal.Signals(-code).name}" if code < 0 else f"exit status {code}"
        failed = Outcome(None, "Runtime.ExitError", f"Runtime exited with error: {how}")
        self._settle_ready(failed)
        job = self._current
        if job is not None and job.done is not None and not job.done.done():
            job.done.set_result(failed)

    def _watch_exit(self) -> None:
        assert self.process is not None and self._loop is not None
        code = self.process.wait()
        if not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._exited, code)

    def _read_output(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for raw in self.process.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")[:MAX_LINE_CHARS]
            with self._lines_lock:
                if len(self._lines) < MAX_LOG_LINES:
                    self._lines.append(line)
                else:
                    self._dropped += 1

    def take_logs(self, settle_s: float = 0.05) -> list[str]:
        """What the process printed since the last take. Output and the Runtime API are two
        channels: wait (briefly) until the pipe has nothing left unread."""
        stdout = self.process.stdout if self.process is not None else None
        end = time.monotonic() + settle_s
        while stdout is not None and time.monotonic() < end:
            try:
                readable, _, _ = select.select([stdout], [], [], 0)
            except (OSError, ValueError):
                break
            if not readable or not self.alive:
                break
            time.sleep(0.002)
        with self._lines_lock:
            lines, self._lines = self._lines, []
            if self._dropped:
                lines.append(f"[{self._dropped} more lines not kept]")
                self._dropped = 0
        return lines
