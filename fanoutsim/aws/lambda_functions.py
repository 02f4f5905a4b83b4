"""A Lambda function's configuration as data, held to Lambda's limits: its name, handler,
memory and timeout. The stack lists its functions with it; the runtime runs them, the
template deploys them and the cost model prices them from the same records."""

from __future__ import annotations

import importlib
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from fanoutsim.errors import ConfigError
from fanoutsim.stages import Point

__all__ = [
    "MAX_MEMORY_MB",
    "MAX_TIMEOUT_S",
    "MIN_MEMORY_MB",
    "MIN_TIMEOUT_S",
    "RUNTIMES",
    "FunctionCode",
    "FunctionSpec",
    "Handler",
]

Handler = Callable[[dict[str, Any], Any], Any]

# Lambda's configuration limits
# (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html).
MIN_MEMORY_MB, MAX_MEMORY_MB = 128, 10_240
MIN_TIMEOUT_S, MAX_TIMEOUT_S = 1.0, 900.0


@dataclass(frozen=True)
class FunctionSpec:
    """A deployed function: its name, handler path ``module:function``, memory size and
    timeout, and the trace points (if any) its start and end mark for the updates it
    handles (the flight-events function's start is ``handler_start``)."""

    name: str
    handler: str
    memory_mb: int = 128
    timeout_s: float = 30.0
    start_point: Point | None = None
    end_point: Point | None = None

    def __post_init__(self) -> None:
        if not MIN_MEMORY_MB <= self.memory_mb <= MAX_MEMORY_MB:
            raise ConfigError(
                f"{self.name}: memory_mb must be from {MIN_MEMORY_MB} to {MAX_MEMORY_MB} MB, "
                f"not {self.memory_mb}"
            )
        if not MIN_TIMEOUT_S <= self.timeout_s <= MAX_TIMEOUT_S:
            raise ConfigError(
                f"{self.name}: timeout_s must be from {MIN_TIMEOUT_S} to {MAX_TIMEOUT_S} s, "
                f"not {self.timeout_s}"
            )

    def load(self) -> Handler:
        module_name, _, attr = self.handler.partition(":")
        try:
            handler: Handler = getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError) as error:
            raise ConfigError(f"cannot load handler {self.handler!r}: {error}") from error
        return handler


#: Runtime identifiers fanoutsim runs as child processes, by language
#: (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html).
RUNTIMES: Final = {
    **{f"python3.{minor}": "python" for minor in range(9, 14)},
    **{f"nodejs{major}.x": "node" for major in (18, 20, 22)},
}


@dataclass(frozen=True)
class FunctionCode:
    """A user's own function: a runtime identifier (``nodejs22.x``, ``python3.12``...),
    the folder or ``.zip`` holding the code, and the handler as Lambda names it
    (``index.handler``: file ``index``, export ``handler``; Python ``app.main``).

    Nothing under ``path`` is modified: a zip is read into a directory of the simulator's
    own. Handlers run as child processes speaking the Lambda Runtime API.
    """

    runtime: str
    path: str | Path
    handler: str

    def __post_init__(self) -> None:
        if self.runtime not in RUNTIMES:
            known = ", ".join(sorted(RUNTIMES))
            raise ConfigError(f"unknown runtime {self.runtime!r}; fanoutsim runs {known}")
        where = Path(self.path)
        if not where.exists():
            raise ConfigError(f"function code {str(where)!r} does not exist")
        if not (where.is_dir() or zipfile.is_zipfile(where)):
            raise ConfigError(f"function code {str(where)!r} is neither a folder nor a zip")
        module, dot, name = self.handler.rpartition(".")
        if not dot or not module or not name:
            raise ConfigError(
                f"handler {self.handler!r} must be FILE.EXPORT (for example index.handler)"
            )

    @property
    def language(self) -> str:
        """``python`` or ``node``."""
        return RUNTIMES[self.runtime]

    @classmethod
    def parse_all(cls, texts: list[str]) -> dict[str, FunctionCode]:
        """Every ``--function`` option, by function name (a name given twice is refused)."""
        codes: dict[str, FunctionCode] = {}
        for text in texts:
            name, code = cls.parse(text)
            if name in codes:
                raise ConfigError(f"--function names {name} twice")
            codes[name] = code
        return codes

    @classmethod
    def parse(cls, text: str) -> tuple[str, FunctionCode]:
        """``NAME=RUNTIME:PATH:HANDLER`` (the ``--function`` option) as (name, code)."""
        name, eq, rest = text.partition("=")
        runtime, _, tail = rest.partition(":")
        path, colon, handler = tail.rpartition(":")
        if not eq or not name or not runtime or not colon:
            raise ConfigError(
                f"--function {text!r}: write NAME=RUNTIME:PATH:HANDLER, for example "
                "stream_fanout=nodejs22.x:./fanout:index.handler"
            )
        return name, cls(runtime, path, handler)
