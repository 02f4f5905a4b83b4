"""Timing profiles: named sets of delay distributions shared by the model and the live run.

A profile is a TOML data file (``fanoutsim/data/profiles/<name>.toml``) with a top-level
``source``/``as_of``, the stream poll interval, and one ``[delays.<key>]`` table per delay,
each with a ``kind`` and a ``source``. The live simulator draws from the same profile
(:meth:`TimingProfile.sample_ms`) to inject delays, and the virtual-time model draws from
it to place every update on a timeline, which is what lets the two be compared.

Keys (all in ms):

- ``eventbridge_delivery``: PutEvents until the target function is invoked.
- ``lambda_cold_start`` / ``lambda_warm_overhead``: invoke until the handler runs, on a new
  or a reused execution environment.
- ``dynamodb_write``: one PutItem/UpdateItem; ``dynamodb_read``: one Scan/Query page.
- ``stream_to_function``: what is left of the table-write-to-function delay once the wait
  for the next stream poll (uniform in ``[0, stream_poll_interval_ms)``) and the invoke
  overhead are accounted for (see the header of ``aws.toml``).
- ``post_to_connection``: one PostToConnection call; ``client_network``: gateway to client.
- ``lambda_invoke_call`` / ``lambda_invoke_async``: the chunked fan-out's Invoke call and
  the async queue wait before a worker starts.

Optional, for the seed's Kinesis feed: ``kinesis_to_function`` (the same remainder for a
Kinesis data stream) with a top-level ``kinesis_poll_interval_ms``;
:meth:`TimingProfile.for_stream` puts them in place of the DynamoDB Streams pair.

Optional top-level ``async_retry_delays_ms`` (two waits, with ``async_retry_source``): how
long Lambda waits before retrying a failed asynchronous invocation (default AWS's).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

import numpy as np

from fanoutsim.datafiles import read_toml
from fanoutsim.errors import ConfigError, DataFileError
from fanoutsim.timing.distributions import Distribution, FloatArray, from_spec

__all__ = [
    "KEYS",
    "OPTIONAL_KEYS",
    "PROFILES_DIR",
    "STREAMS",
    "TimingProfile",
    "available_profiles",
    "load_profile",
]

PROFILES_DIR: Final = Path(__file__).resolve().parent.parent / "data" / "profiles"

AWS_ASYNC_RETRY_DELAYS_MS: Final = (60_000.0, 120_000.0)
AWS_ASYNC_RETRY_SOURCE: Final = (
    "https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html: two "
    "retries, one minute after the first attempt and two minutes after the second"
)

#: Every key a profile defines, in pipeline order.
KEYS: Final = (
    "eventbridge_delivery",
    "lambda_cold_start",
    "lambda_warm_overhead",
    "dynamodb_write",
    "dynamodb_read",
    "stream_to_function",
    "post_to_connection",
    "client_network",
    "lambda_invoke_call",
    "lambda_invoke_async",
)
#: Keys a profile may define: the stream stage of the seed's Kinesis feed.
OPTIONAL_KEYS: Final = ("kinesis_to_function",)
#: The change feeds a profile can time: DynamoDB Streams (every profile) and Kinesis.
STREAMS: Final = ("dynamodb", "kinesis")


@dataclass(frozen=True)
class TimingProfile:
    """A named set of delay distributions (ms) with their sources."""

    name: str
    source: str
    as_of: str
    stream_poll_interval_ms: float
    distributions: Mapping[str, Distribution]
    path: Path | None = None
    #: Waits before Lambda's two retries of a failed asynchronous invocation, and where
    #: they come from (optional in a file: AWS's one and two minutes).
    async_retry_delays_ms: tuple[float, ...] = AWS_ASYNC_RETRY_DELAYS_MS
    async_retry_source: str = AWS_ASYNC_RETRY_SOURCE
    #: How often Lambda polls a Kinesis shard, if the profile times the Kinesis feed.
    kinesis_poll_interval_ms: float | None = None
    #: The change feed whose poll interval and ``stream_to_function`` are in place.
    stream: str = "dynamodb"

    def for_stream(self, stream: str) -> TimingProfile:
        """This profile timing ``stream``'s feed: for ``"kinesis"``, the Kinesis poll
        interval and ``kinesis_to_function`` stand in for the DynamoDB Streams pair, so
        the live run and the model need not know which feed they time."""
        if stream not in STREAMS:
            raise ConfigError(f"stream must be one of {', '.join(STREAMS)}, not {stream!r}")
        if stream == self.stream:
            return self
        if self.stream != "dynamodb":
            raise ConfigError(f"profile {self.name!r} already times the {self.stream} feed")
        if self.kinesis_poll_interval_ms is None or "kinesis_to_function" not in self.distributions:
            raise DataFileError(
                f"timing profile {self.name!r} does not time a Kinesis feed: it needs a "
                "[delays.kinesis_to_function] table and a kinesis_poll_interval_ms"
            )
        changed = dict(self.distributions) | {
            "stream_to_function": self.distributions["kinesis_to_function"]
        }
        return dataclasses.replace(
            self,
            stream=stream,
            stream_poll_interval_ms=self.kinesis_poll_interval_ms,
            distributions=MappingProxyType(changed),
        )

    def distribution(self, key: str) -> Distribution:
        """The distribution of ``key``; KeyError naming the known keys otherwise."""
        try:
            return self.distributions[key]
        except KeyError:
            raise KeyError(f"unknown delay {key!r}; known: {', '.join(KEYS)}") from None

    def sample_ms(
        self, key: str, rng: np.random.Generator, size: int | None = None
    ) -> float | FloatArray:
        """Draw delay ``key`` in ms: one float, or an array of ``size`` draws."""
        return self.distribution(key).sample(rng, size)

    def poll_wait_ms(self, rng: np.random.Generator, size: int) -> FloatArray:
        """Wait from a table write until the next stream poll, uniform over one interval."""
        return rng.uniform(0.0, 1.0, size) * self.stream_poll_interval_ms

    def with_delay(self, key: str, distribution: Distribution) -> TimingProfile:
        """A copy with one distribution replaced (e.g. a what-if PostToConnection latency)."""
        self.distribution(key)
        changed = dict(self.distributions) | {key: distribution}
        return dataclasses.replace(self, distributions=MappingProxyType(changed))

    def rows(self) -> list[dict[str, str]]:
        """One row per delay: key, distribution and source (for tables in notebooks)."""
        return [
            {"delay": key, "distribution": d.describe(), "source": d.source}
            for key, d in self.distributions.items()
        ]


def available_profiles() -> list[str]:
    """Names of the packaged profiles."""
    return sorted(p.stem for p in PROFILES_DIR.glob("*.toml"))


def load_profile(name_or_path: str | Path = "instant") -> TimingProfile:
    """Load a packaged profile by name (``instant``, ``aws``) or any profile file by path.

    Raises :class:`~fanoutsim.errors.DataFileError` for an unknown name, an unreadable or
    invalid file, a missing key, or a distribution without a source.
    """
    text = str(name_or_path)
    is_path = isinstance(name_or_path, Path) or text.endswith(".toml") or "/" in text
    file = Path(name_or_path) if is_path else PROFILES_DIR / f"{text}.toml"
    if not is_path and not file.is_file():
        raise DataFileError(
            f"unknown timing profile {text!r}; packaged profiles: "
            f"{', '.join(available_profiles())} (or pass the path of a .toml file)"
        )
    return _parse(read_toml(file, "timing profile"), file)


def _is_wait(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value >= 0


def _parse(doc: dict[str, Any], file: Path) -> TimingProfile:
    where = f"timing profile {file}"
    for key in ("source", "as_of"):
        value = doc.get(key)
        if not (isinstance(value, str) and value.strip()) and not hasattr(value, "isoformat"):
            raise DataFileError(f"{where}: top-level '{key}' is required")
    poll = doc.get("stream_poll_interval_ms")
    if isinstance(poll, bool) or not isinstance(poll, int | float) or not poll >= 0:
        raise DataFileError(f"{where}: 'stream_poll_interval_ms' must be a number >= 0")
    delays = doc.get("delays")
    if not isinstance(delays, dict):
        raise DataFileError(f"{where}: no [delays.<key>] tables")
    missing = [k for k in KEYS if k not in delays]
    unknown = [k for k in delays if k not in KEYS + OPTIONAL_KEYS]
    if missing or unknown:
        problems = [f"missing {', '.join(missing)}"] if missing else []
        problems += [f"unknown {', '.join(unknown)}"] if unknown else []
        raise DataFileError(f"{where}: delays {'; '.join(problems)}")
    distributions = {
        k: from_spec(delays[k], f"{where}, [delays.{k}]")
        for k in KEYS + OPTIONAL_KEYS
        if k in delays
    }
    kinesis_poll = doc.get("kinesis_poll_interval_ms")
    if (kinesis_poll is None) != ("kinesis_to_function" not in delays):
        raise DataFileError(
            f"{where}: 'kinesis_poll_interval_ms' and [delays.kinesis_to_function] go together"
        )
    if kinesis_poll is not None and not _is_wait(kinesis_poll):
        raise DataFileError(f"{where}: 'kinesis_poll_interval_ms' must be a number >= 0")
    retries = doc.get("async_retry_delays_ms", list(AWS_ASYNC_RETRY_DELAYS_MS))
    if (
        not isinstance(retries, list)
        or len(retries) != len(AWS_ASYNC_RETRY_DELAYS_MS)
        or not all(
            isinstance(r, int | float) and not isinstance(r, bool) and r >= 0 for r in retries
        )
    ):
        raise DataFileError(f"{where}: 'async_retry_delays_ms' must be two numbers >= 0")
    retry_source = doc.get("async_retry_source", AWS_ASYNC_RETRY_SOURCE)
    if "async_retry_delays_ms" in doc and "async_retry_source" not in doc:
        raise DataFileError(f"{where}: 'async_retry_delays_ms' needs an 'async_retry_source'")
    as_of = doc["as_of"]
    return TimingProfile(
        name=str(doc.get("name") or file.stem),
        source=str(doc["source"]),
        as_of=as_of if isinstance(as_of, str) else as_of.isoformat(),
        stream_poll_interval_ms=float(poll),
        distributions=MappingProxyType(distributions),
        path=file,
        async_retry_delays_ms=tuple(float(r) for r in retries),
        async_retry_source=str(retry_source),
        kinesis_poll_interval_ms=None if kinesis_poll is None else float(kinesis_poll),
    )
