"""Users' functions in child processes: a pool of execution environments per function.

Each function (a :class:`~fanoutsim.aws.lambda_functions.FunctionCode`) scales out to at
most ``concurrency`` environments, each its own process (so the operating system spreads
them over the cores); a warm one is reused, a timed-out, crashed or failed-INIT one is
thrown away. The environments' Runtime API servers live on one event loop thread of the
pool's own; :meth:`ProcessFunctions.invoke` is called from the function runtime's worker
threads and blocks like the in-thread runtime does.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from fanoutsim.aws.lambda_functions import FunctionCode, FunctionSpec
from fanoutsim.aws.metering import app_id
from fanoutsim.errors import ConfigError
from fanoutsim.runtime.bootstrap import NODE_RUNTIME, PYTHON_RUNTIME
from fanoutsim.runtime.environment_process import Environment, Job, Outcome
from fanoutsim.runtime.loop_thread import LoopThread

__all__ = ["INIT_TIMEOUT_S", "ProcessFunctions", "ProcessResult", "node_version"]

#: Lambda's INIT phase may take 10 s before the invocation fails
#: (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html).
INIT_TIMEOUT_S: Final = 10.0


@dataclass
class ProcessResult:
    """What one invocation in a process produced, for the function runtime's record."""

    outcome: Outcome | None  # None: timed out
    cold: bool
    init_ms: float
    duration_ms: float
    logs: list[str] = field(default_factory=list)
    peak_memory_mb: int = 0


async def _cancel_pending() -> None:
    """Cancel every other task on this loop and wait for them."""
    current = asyncio.current_task()
    tasks = [t for t in asyncio.all_tasks() if t is not current]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def node_version() -> str | None:
    """``v22.x.y`` of the machine's ``node``, or None when there is none."""
    node = shutil.which("node")
    if node is None:
        return None
    done = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=10)
    return done.stdout.strip() or None


class ProcessFunctions:
    """Execution environments as processes for the functions in ``codes``."""

    def __init__(
        self,
        codes: Mapping[str, FunctionCode],
        specs: Mapping[str, FunctionSpec],
        environment: Callable[[], dict[str, str]],
        *,
        region: str,
        account: str,
        concurrency: int = 4,
    ) -> None:
        self._codes = dict(codes)
        self._specs = dict(specs)
        self._environment = environment
        self._region, self._account = region, account
        self._loop = LoopThread("fanoutsim-lambda-processes")
        self._lock = threading.Lock()
        self._idle: dict[str, list[Environment]] = {name: [] for name in codes}
        self._slots = {name: threading.BoundedSemaphore(concurrency) for name in codes}
        self._workdir = tempfile.TemporaryDirectory(prefix="fanoutsim-code-")
        self._roots = {name: self._unpack(name, code) for name, code in self._codes.items()}
        self._node_version = ""
        if any(code.language == "node" for code in codes.values()):
            found = node_version()
            if found is None:
                raise ConfigError(
                    "a Node.js function needs the machine's node (the nodejs system package)"
                )
            self._node_version = found

    def __contains__(self, name: str) -> bool:
        return name in self._codes

    def _unpack(self, name: str, code: FunctionCode) -> str:
        """The code's folder as it is, or a zip read into a folder of our own."""
        where = Path(code.path)
        if where.is_dir():
            return str(where.resolve())
        target = Path(self._workdir.name) / name
        with zipfile.ZipFile(where) as archive:
            for member in archive.namelist():  # no path may leave the folder
                if Path(member).is_absolute() or ".." in Path(member).parts:
                    raise ConfigError(f"{where}: zip member {member!r} leaves its folder")
            archive.extractall(target)
        return str(target)

    def _command(self, code: FunctionCode, spec: FunctionSpec) -> list[str]:
        if code.language == "node":
            heap = max(64, math.floor(spec.memory_mb * 0.85))
            return ["node", f"--max-old-space-size={heap}", str(NODE_RUNTIME)]
        return [sys.executable, "-u", str(PYTHON_RUNTIME)]

    def _env(self, name: str, code: FunctionCode, spec: FunctionSpec) -> dict[str, str]:
        """What Lambda sets in a function's environment, then the stack's own variables."""
        keep = ("PATH", "LANG", "HOME", "SYSTEMROOT", "VIRTUAL_ENV")
        env = {k: os.environ[k] for k in keep if k in os.environ}
        env.update(self._environment())
        env.update(
            {
                "_HANDLER": code.handler,
                "LAMBDA_TASK_ROOT": self._roots[name],
                "AWS_LAMBDA_FUNCTION_NAME": name,
                "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
                "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
                "AWS_LAMBDA_LOG_STREAM_NAME": f"local/{name}",
                "AWS_EXECUTION_ENV": f"AWS_Lambda_{code.runtime}",
                "AWS_REGION": self._region,
                "AWS_DEFAULT_REGION": self._region,
                "TZ": ":UTC",
                # not Lambda's: lets the AWS endpoint count this function's calls as the
                # pipeline's (every AWS SDK sends it in its User-Agent)
                "AWS_SDK_UA_APP_ID": app_id(name),
            }
        )
        if code.language == "python":
            env["PYTHONPATH"] = self._roots[name]
        return env

    def _init_line(self, code: FunctionCode) -> str:
        """INIT_START, naming the runtime asked for and the interpreter that ran it (they
        differ when the machine's Node.js or Python is not the version named)."""
        if code.language == "node":
            ran = f"node {self._node_version}"
        else:
            ran = f"Python {sys.version.split()[0]}"
        return f"INIT_START Runtime Version: {code.runtime}, run by this machine's {ran}"

    def invoke(
        self, name: str, event: dict[str, Any], request_id: str, trace_id: str
    ) -> ProcessResult:
        """Run one invocation of ``name`` in a warm environment or a new one."""
        code, spec = self._codes[name], self._specs[name]
        with self._slots[name]:
            with self._lock:
                warm = self._idle[name].pop() if self._idle[name] else None
            environment, init_ms = warm, 0.0
            if environment is None:
                environment = Environment(
                    self._command(code, spec), self._env(name, code, spec), self._roots[name]
                )
                self._loop.run(environment.start())
                failed = self._loop.run(environment.ready(INIT_TIMEOUT_S), INIT_TIMEOUT_S + 5)
                init_ms = (time.perf_counter() - environment.started) * 1000
                if failed is not None:  # the INIT failed: this invocation fails with it
                    logs = [self._init_line(code), *environment.take_logs()]
                    self._loop.run(environment.close())
                    return ProcessResult(failed, True, init_ms, 0.0, logs)
            started = time.perf_counter()
            job = Job(
                request_id=request_id,
                event=json.dumps(event).encode(),
                deadline_epoch_ms=int(time.time() * 1000 + spec.timeout_s * 1000),
                function_arn=f"arn:aws:lambda:{self._region}:{self._account}:function:{name}",
                trace_id=trace_id,
            )
            outcome = self._loop.run(environment.invoke(job, spec.timeout_s), spec.timeout_s + 10)
            duration_ms = (time.perf_counter() - started) * 1000
            logs = environment.take_logs()
            if warm is None:
                logs.insert(0, self._init_line(code))
            peak = environment.peak_memory_mb()
            if (
                outcome is None
                or not environment.alive
                or outcome.error_type == "Runtime.ExitError"
            ):
                self._loop.run(environment.close())
            else:
                with self._lock:
                    self._idle[name].append(environment)
            return ProcessResult(outcome, warm is None, init_ms, duration_ms, logs, peak)

    def close(self) -> None:
        """Stop every environment and the loop; remove unpacked code."""
        with self._lock:
            idle = [env for envs in self._idle.values() for env in envs]
            for envs in self._idle.values():
                envs.clear()
        for environment in idle:
            self._loop.run(environment.close())
        self._loop.run(_cancel_pending())  # runtimes' unanswered ``next`` calls
        self._loop.stop()
        self._workdir.cleanup()
