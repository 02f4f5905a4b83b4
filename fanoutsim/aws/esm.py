"""The DynamoDB stream event source mapping as a pure state machine (one shard).

The poller feeds Lambda-shaped records with :meth:`StreamMapping.offer`, asks for work with
:meth:`StreamMapping.next_batch`, invokes the function and reports the outcome with
:meth:`StreamMapping.complete`. Time is always passed in, never read, so the same machine
runs in real and in virtual time.

Semantics (Lambda developer guide: DynamoDB event source mappings, error handling, partial
batch responses), with the choices made where the guide is silent:

- Filtering: records matching none of the FilterCriteria patterns are dropped at offer time
  and never invoked (nor billed); they are counted in ``filtered``.
- Batching: a batch is ready when ``batch_size`` records wait, when the batching window
  (0 = none) has elapsed, or at once for a retry. The window starts at the later of the
  first waiting record's arrival and the end of the previous invocation (AWS: "the next
  window begins as soon as the previous function invocation completes"). The 6 MB payload
  limit is not modelled.
- One batch in flight; a failing batch blocks the records behind it (in order). This
  machine is one lane of a shard: :class:`fanoutsim.aws.esm_lanes.ShardMapping` runs
  ParallelizationFactor of them side by side, records routed by partition key.
- Success: the batch's records are checkpointed (``succeeded_records``).
- ReportBatchItemFailures: the lowest failed ``itemIdentifier`` is the checkpoint; records
  before it succeed, it and every later record of the batch are retried (so records after
  it are delivered again: duplicates downstream). An empty list, a null list, ``{}`` or
  ``None`` is success. A null/empty/unknown ``itemIdentifier``, a failure entry without
  that key, or a response that is not an object is a whole-batch failure: retried from the
  first record, without bisection (the response is malformed, the invocation did not
  error). With the feature off, any return value is success.
- Function error (an exception): the whole batch is retried, or, with
  ``bisect_batch_on_function_error``, split into two halves retried one after the other.
  Assumption (the guide does not say): a split does not consume a retry attempt; each half
  keeps its parent's retry count, and a one-record batch that errors is retried normally.
  Halving bounds the splitting.
- Retries: each redelivery after an item failure or an error consumes one retry attempt.
  Once ``maximum_retry_attempts`` retries are used (-1 = unlimited), the next failure
  discards the batch's remaining records. Records older than ``maximum_record_age_s``
  (-1 = unlimited; age counted from the offer time) are discarded instead of being
  delivered. Discarded records are counted and returned, each group as a :class:`Discard`
  saying why (``RetryAttemptsExhausted`` or ``RecordAgeExceeded``) for an on-failure
  destination (:mod:`fanoutsim.aws.esm_destination`); the 24 h stream retention is not
  modelled.
"""

from __future__ import annotations

import itertools
import re
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from fanoutsim.aws.patterns import MAX_FILTERS, filter_criteria_matches, validate_pattern
from fanoutsim.aws.stream_records import StreamRecord, stream_event
from fanoutsim.errors import ConfigError, SimulatorError

__all__ = [
    "RECORD_AGE_EXCEEDED",
    "RETRIES_EXHAUSTED",
    "UNLIMITED",
    "Batch",
    "Discard",
    "InvokeResult",
    "MappingConfig",
    "Record",
    "StreamMapping",
]

Record: TypeAlias = dict[str, Any]
InvokeResult: TypeAlias = BaseException | Mapping[str, Any] | None
"""What the function did: raised (an exception), or returned (a response, maybe None)."""

UNLIMITED = -1
#: Why a batch was discarded, as an on-failure record's ``requestContext.condition`` says.
RETRIES_EXHAUSTED = "RetryAttemptsExhausted"
RECORD_AGE_EXCEEDED = "RecordAgeExceeded"
#: Discarded batches a mapping holds until they are taken.
DISCARDS_KEPT = 10_000
_SQS_ARN = re.compile(r"arn:aws[a-z-]*:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,80}")


def _check_range(
    name: str, value: float, low: float, high: float, *, allow_unlimited: bool
) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{name} must be a number, got {value!r}")
    if allow_unlimited and value == UNLIMITED:
        return
    if not low <= value <= high:
        extra = " or -1" if allow_unlimited else ""
        raise ConfigError(f"{name} must be between {low} and {high}{extra}, got {value}")


@dataclass(frozen=True)
class MappingConfig:
    """Event source mapping settings, validated against the ranges the Lambda API accepts."""

    batch_size: int = 100
    maximum_batching_window_s: float = 0.0
    filter_patterns: tuple[Mapping[str, Any], ...] = ()
    maximum_retry_attempts: int = UNLIMITED
    maximum_record_age_s: float = UNLIMITED
    bisect_batch_on_function_error: bool = False
    report_batch_item_failures: bool = True
    parallelization_factor: int = 1
    #: Where a record of each discarded batch goes (DestinationConfig.OnFailure): an SQS
    #: queue's ARN, or None.
    on_failure_destination: str | None = None

    def __post_init__(self) -> None:
        _check_range("batch_size", self.batch_size, 1, 10_000, allow_unlimited=False)
        _check_range(
            "maximum_batching_window_s",
            self.maximum_batching_window_s,
            0,
            300,
            allow_unlimited=False,
        )
        _check_range(
            "maximum_retry_attempts",
            self.maximum_retry_attempts,
            0,
            10_000,
            allow_unlimited=True,
        )
        _check_range(
            "maximum_record_age_s", self.maximum_record_age_s, 60, 604_800, allow_unlimited=True
        )
        _check_range(
            "parallelization_factor", self.parallelization_factor, 1, 10, allow_unlimited=False
        )
        destination = self.on_failure_destination
        if destination is not None and not _SQS_ARN.fullmatch(destination):
            raise ConfigError(
                f"on_failure_destination must be an SQS queue's ARN "
                f"(arn:aws:sqs:REGION:ACCOUNT:NAME), not {destination!r}"
            )
        patterns = tuple(self.filter_patterns)
        if len(patterns) > MAX_FILTERS:
            raise ConfigError(f"at most {MAX_FILTERS} filter patterns, got {len(patterns)}")
        for pattern in patterns:
            validate_pattern(pattern)
        object.__setattr__(self, "filter_patterns", patterns)


@dataclass(frozen=True)
class Batch:
    """One invocation's records. ``attempt`` is 1 on first delivery and grows on every
    redelivery (retry or split); ``retries`` counts the attempts charged to the limit."""

    records: tuple[Record, ...]
    attempt: int
    retries: int
    batch_id: int
    arrived: tuple[float, ...] = field(repr=False, compare=False)

    @property
    def is_retry(self) -> bool:
        return self.attempt > 1

    def event(self) -> dict[str, Any]:
        """The function's event: ``{"Records": [...]}``."""
        return stream_event(self.records)


@dataclass(frozen=True)
class Discard:
    """Records the mapping gave up on, and why: ``condition`` is ``RetryAttemptsExhausted``
    or ``RecordAgeExceeded``; ``invoke_count`` the invocations that carried them;
    ``function_error`` whether the last one raised (None: never invoked)."""

    records: tuple[Record, ...]
    condition: str
    invoke_count: int
    function_error: bool | None


@dataclass
class _Segment:
    records: list[Record]
    arrived: list[float]
    attempt: int
    retries: int
    errored: bool = True  # whether the invocation that sent it back raised


class StreamMapping:
    """State machine of one shard's event source mapping (see the module docstring)."""

    def __init__(
        self, config: MappingConfig | None = None, *, ids: Iterator[int] | None = None
    ) -> None:
        self.config = config or MappingConfig()
        self._pending: deque[tuple[Record, float]] = deque()
        self._retry: deque[_Segment] = deque()
        self._in_flight: Batch | None = None
        self._last_completed = float("-inf")
        self._outbox: list[Record] = []
        #: Discarded batches until taken (bounded: a caller that never takes them loses the
        #: oldest, never memory).
        self._discards: deque[Discard] = deque(maxlen=DISCARDS_KEPT)
        self._filtered_out: list[Record] = []
        self._ids = ids if ids is not None else itertools.count(1)
        self.invocations = 0
        self.retries = 0
        self.bisections = 0
        self.filtered = 0
        self.discarded = 0
        self.delivered_records = 0
        self.redelivered_records = 0
        self.succeeded_records = 0

    # --- feeding and polling --------------------------------------------------------------

    def offer(self, records: Sequence[Record], now: float) -> int:
        """Queue records read from the stream at ``now``; return how many passed the filter."""
        accepted = 0
        for record in records:
            if filter_criteria_matches(
                self.config.filter_patterns, StreamRecord(record).filter_view()
            ):
                self._pending.append((record, now))
                accepted += 1
            else:
                self.filtered += 1
                self._filtered_out.append(record)
        return accepted

    def next_batch(self, now: float) -> Batch | None:
        """The batch to invoke now, or None (nothing ready, or a batch is in flight)."""
        if self._in_flight is not None:
            return None
        self._expire(now)
        if self._retry:
            segment = self._retry.popleft()
        elif self._pending and self._window_elapsed(now):
            size = min(self.config.batch_size, len(self._pending))
            taken = [self._pending.popleft() for _ in range(size)]
            segment = _Segment([r for r, _ in taken], [t for _, t in taken], 1, 0)
        else:
            return None
        batch = Batch(
            tuple(segment.records),
            segment.attempt,
            segment.retries,
            next(self._ids),
            tuple(segment.arrived),
        )
        self._in_flight = batch
        self.invocations += 1
        self.delivered_records += len(batch.records)
        if batch.is_retry:
            self.redelivered_records += len(batch.records)
        return batch

    def next_deadline(self) -> float | None:
        """When :meth:`next_batch` will next have work if nothing else arrives (may be in
        the past: ready now); None while a batch is in flight or nothing waits."""
        if self._in_flight is not None:
            return None
        if self._retry:
            return self._last_completed
        if not self._pending:
            return None
        if len(self._pending) >= self.config.batch_size:
            return self._pending[0][1]
        return self._window_start() + self.config.maximum_batching_window_s

    @property
    def backlog(self) -> int:
        """Records waiting (pending or awaiting retry), excluding the batch in flight."""
        return len(self._pending) + sum(len(s.records) for s in self._retry)

    @property
    def idle(self) -> bool:
        """Nothing waiting and nothing in flight."""
        return self._in_flight is None and self.backlog == 0

    def _window_start(self) -> float:
        return max(self._pending[0][1], self._last_completed)

    def _window_elapsed(self, now: float) -> bool:
        window = self.config.maximum_batching_window_s
        full = len(self._pending) >= self.config.batch_size
        return full or window == 0 or now >= self._window_start() + window

    # --- outcomes ---------------------------------------------------------------------------

    def complete(self, batch: Batch, result: InvokeResult, now: float) -> list[Record]:
        """Apply the invocation's outcome; return the records discarded since the last
        call to :meth:`complete` or :meth:`take_discarded` (retries exhausted or too old)."""
        if self._in_flight is None or batch.batch_id != self._in_flight.batch_id:
            raise SimulatorError(f"batch {batch.batch_id} is not the batch in flight")
        self._in_flight = None
        self._last_completed = now
        if isinstance(result, BaseException):
            self._on_function_error(batch)
        else:
            checkpoint = self._checkpoint(batch, result)
            self.succeeded_records += checkpoint
            if checkpoint < len(batch.records):
                self._retry_from(batch, checkpoint, function_error=False)
        self._expire(now)
        return self.take_discarded()

    def take_discarded(self) -> list[Record]:
        """Drain the discarded records not yet returned."""
        out, self._outbox = self._outbox, []
        return out

    def take_discards(self) -> list[Discard]:
        """Drain the discarded batches not yet returned, with why each was discarded."""
        out = list(self._discards)
        self._discards.clear()
        return out

    def take_filtered(self) -> list[Record]:
        """Drain the records the filter dropped since the last call (never invoked, never
        billed; a caller waiting on them should stop waiting)."""
        out, self._filtered_out = self._filtered_out, []
        return out

    def _checkpoint(self, batch: Batch, result: Mapping[str, Any] | None) -> int:
        """Index of the first record to retry (``len(records)`` = all succeeded)."""
        if not self.config.report_batch_item_failures or result is None:
            return len(batch.records)
        if not isinstance(result, Mapping):
            return 0
        failures = result.get("batchItemFailures")
        if failures is None:
            return len(batch.records)
        if not isinstance(failures, list):
            return 0
        positions = {StreamRecord(r).sequence_number: i for i, r in enumerate(batch.records)}
        lowest = len(batch.records)
        for failure in failures:
            identifier = failure.get("itemIdentifier") if isinstance(failure, Mapping) else None
            if not isinstance(identifier, str | int) or str(identifier) not in positions:
                return 0
            lowest = min(lowest, positions[str(identifier)])
        return lowest

    def _on_function_error(self, batch: Batch) -> None:
        if not self.config.bisect_batch_on_function_error or len(batch.records) < 2:
            self._retry_from(batch, 0, function_error=True)
            return
        self.bisections += 1
        half = len(batch.records) // 2
        for lo, hi in ((half, len(batch.records)), (0, half)):
            self._retry.appendleft(
                _Segment(
                    list(batch.records[lo:hi]),
                    list(batch.arrived[lo:hi]),
                    batch.attempt + 1,
                    batch.retries,
                )
            )

    def _retry_from(self, batch: Batch, start: int, *, function_error: bool) -> None:
        records, arrived = list(batch.records[start:]), list(batch.arrived[start:])
        limit = self.config.maximum_retry_attempts
        if limit != UNLIMITED and batch.retries >= limit:
            self._discard(records, RETRIES_EXHAUSTED, batch.attempt, function_error)
            return
        self.retries += 1
        self._retry.appendleft(
            _Segment(records, arrived, batch.attempt + 1, batch.retries + 1, function_error)
        )

    def _expire(self, now: float) -> None:
        max_age = self.config.maximum_record_age_s
        if max_age == UNLIMITED:
            return
        for segment in list(self._retry):
            fresh = [now - t <= max_age for t in segment.arrived]
            old = [r for r, ok in zip(segment.records, fresh, strict=True) if not ok]
            self._discard(old, RECORD_AGE_EXCEEDED, segment.attempt - 1, segment.errored)
            segment.records = [r for r, ok in zip(segment.records, fresh, strict=True) if ok]
            segment.arrived = [t for t, ok in zip(segment.arrived, fresh, strict=True) if ok]
            if not segment.records:
                self._retry.remove(segment)
        while self._pending and now - self._pending[0][1] > max_age:
            self._discard([self._pending.popleft()[0]], RECORD_AGE_EXCEEDED, 0, None)

    def _discard(
        self, records: list[Record], condition: str, invokes: int, function_error: bool | None
    ) -> None:
        if not records:
            return
        self.discarded += len(records)
        self._outbox.extend(records)
        self._discards.append(Discard(tuple(records), condition, invokes, function_error))

    def counters(self) -> dict[str, int]:
        """All counters by name (for reports)."""
        names = (
            "invocations",
            "retries",
            "bisections",
            "filtered",
            "discarded",
            "delivered_records",
            "redelivered_records",
            "succeeded_records",
        )
        return {name: getattr(self, name) for name in names}
