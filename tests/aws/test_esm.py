"""The event source mapping state machine, driven with records and invocation results.

AWS pages this module checks:

- https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-batchfailurereporting.html
- https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-params.html
- https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from fanoutsim.aws.esm import (
    RECORD_AGE_EXCEEDED,
    RETRIES_EXHAUSTED,
    Batch,
    InvokeResult,
    MappingConfig,
    StreamMapping,
)
from fanoutsim.errors import ConfigError, InvalidEventPattern, SimulatorError
from tests.aws.records import make_record, seqs


def records(*numbers: int) -> list[dict[str, Any]]:
    return [make_record(n) for n in numbers]


def fail_on(*bad: int) -> Callable[[Batch], InvokeResult]:
    """A function that raises if the batch holds any of the ``bad`` sequence numbers."""

    def invoke(batch: Batch) -> InvokeResult:
        return RuntimeError("poison") if set(seqs(batch.records)) & set(bad) else None

    return invoke


def drain(
    mapping: StreamMapping, invoke: Callable[[Batch], InvokeResult], now: float = 0.0
) -> list[list[int]]:
    """Run batches until none is ready; return the delivered batches' sequence lists."""
    delivered: list[list[int]] = []
    while (batch := mapping.next_batch(now)) is not None:
        delivered.append(seqs(batch.records))
        mapping.complete(batch, invoke(batch), now)
    return delivered


# --- configuration ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"batch_size": 0},
        {"batch_size": 10_001},
        {"batch_size": True},
        {"maximum_batching_window_s": 301},
        {"maximum_batching_window_s": -1},
        {"maximum_retry_attempts": -2},
        {"maximum_retry_attempts": 10_001},
        {"maximum_record_age_s": 59},
        {"maximum_record_age_s": 604_801},
        {"parallelization_factor": 0},
        {"parallelization_factor": 11},
        {"filter_patterns": tuple({"eventName": ["INSERT"]} for _ in range(6))},
    ],
)
def test_out_of_range_settings_are_config_errors(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        MappingConfig(**kwargs)


def test_limits_and_unlimited_values_are_accepted() -> None:
    config = MappingConfig(
        batch_size=10_000,
        maximum_batching_window_s=300,
        maximum_retry_attempts=-1,
        maximum_record_age_s=-1,
        parallelization_factor=10,
        filter_patterns=[{"eventName": ["MODIFY"]}],  # type: ignore[arg-type]
    )
    assert config.filter_patterns == ({"eventName": ["MODIFY"]},)


def test_invalid_filter_pattern_is_rejected() -> None:
    with pytest.raises(InvalidEventPattern):
        MappingConfig(filter_patterns=({"eventName": "MODIFY"},))


# --- batching -----------------------------------------------------------------------------


def test_without_window_everything_pending_goes_at_once_and_one_batch_is_in_flight() -> None:
    mapping = StreamMapping()
    mapping.offer(records(1, 2, 3), now=0.0)
    batch = mapping.next_batch(0.0)
    assert batch is not None and seqs(batch.records) == [1, 2, 3]
    assert batch.attempt == 1 and not batch.is_retry
    assert batch.event() == {"Records": list(batch.records)}
    mapping.offer(records(4), now=0.1)
    assert mapping.next_batch(0.1) is None
    assert mapping.next_deadline() is None
    mapping.complete(batch, {}, 0.2)
    assert drain(mapping, lambda b: None, 0.2) == [[4]]
    assert mapping.invocations == 2 and mapping.succeeded_records == 4 and mapping.idle


def test_batches_never_exceed_batch_size() -> None:
    mapping = StreamMapping(MappingConfig(batch_size=100))
    mapping.offer(records(*range(1, 251)), now=0.0)
    assert [len(b) for b in drain(mapping, lambda b: None)] == [100, 100, 50]


def test_window_holds_a_partial_batch_until_it_elapses() -> None:
    mapping = StreamMapping(MappingConfig(batch_size=10, maximum_batching_window_s=5))
    assert mapping.next_deadline() is None
    mapping.offer(records(1), now=1.0)
    mapping.offer(records(2, 3), now=2.0)
    assert mapping.next_deadline() == 6.0
    assert mapping.next_batch(5.9) is None
    batch = mapping.next_batch(6.0)
    assert batch is not None and seqs(batch.records) == [1, 2, 3]


def test_full_batch_does_not_wait_for_the_window() -> None:
    mapping = StreamMapping(MappingConfig(batch_size=3, maximum_batching_window_s=100))
    mapping.offer(records(1, 2, 3, 4), now=0.0)
    assert mapping.next_deadline() == 0.0
    batch = mapping.next_batch(0.0)
    assert batch is not None and seqs(batch.records) == [1, 2, 3]


def test_next_window_starts_when_the_previous_invocation_completes() -> None:
    mapping = StreamMapping(MappingConfig(batch_size=10, maximum_batching_window_s=5))
    mapping.offer(records(1), now=0.0)
    batch = mapping.next_batch(5.0)
    assert batch is not None
    mapping.offer(records(2), now=5.5)
    mapping.complete(batch, None, now=7.0)
    assert mapping.next_deadline() == 12.0
    assert mapping.next_batch(11.0) is None
    assert mapping.next_batch(12.0) is not None


def test_filtered_records_are_dropped_and_counted() -> None:
    mapping = StreamMapping(MappingConfig(filter_patterns=({"eventName": ["MODIFY"]},)))
    accepted = mapping.offer([make_record(1, "INSERT"), make_record(2, "MODIFY")], now=0.0)
    assert accepted == 1 and mapping.filtered == 1
    assert drain(mapping, lambda b: None) == [[2]]
    assert mapping.delivered_records == 1


# --- partial batch responses --------------------------------------------------------------


def test_item_failure_checkpoints_at_lowest_failed_sequence_and_redelivers_later_records() -> None:
    mapping = StreamMapping()
    mapping.offer(records(1, 2, 3, 4, 5), now=0.0)
    first = mapping.next_batch(0.0)
    assert first is not None
    failures = {"batchItemFailures": [{"itemIdentifier": "4"}, {"itemIdentifier": "2"}]}
    assert mapping.complete(first, failures, 1.0) == []
    retry = mapping.next_batch(1.0)
    assert retry is not None and seqs(retry.records) == [2, 3, 4, 5]
    assert retry.is_retry and retry.attempt == 2 and retry.retries == 1
    mapping.complete(retry, {"batchItemFailures": []}, 2.0)
    assert mapping.counters() == {
        "invocations": 2,
        "retries": 1,
        "bisections": 0,
        "filtered": 0,
        "discarded": 0,
        "delivered_records": 9,
        "redelivered_records": 4,
        "succeeded_records": 5,
    }


@pytest.mark.parametrize(
    "response", [None, {}, {"batchItemFailures": []}, {"batchItemFailures": None}]
)
def test_success_responses(response: InvokeResult) -> None:
    mapping = StreamMapping()
    mapping.offer(records(1, 2), now=0.0)
    assert drain(mapping, lambda b: response) == [[1, 2]]
    assert mapping.retries == 0


@pytest.mark.parametrize(
    "response",
    [
        {"batchItemFailures": [{"itemIdentifier": "999"}]},
        {"batchItemFailures": [{"itemIdentifier": ""}]},
        {"batchItemFailures": [{"itemIdentifier": None}]},
        {"batchItemFailures": [{"itemIdentifer": "2"}]},
        {"batchItemFailures": [{"itemIdentifier": "2"}, "junk"]},
        {"batchItemFailures": "2"},
        "not an object",
    ],
)
def test_malformed_responses_fail_the_whole_batch(response: Any) -> None:
    mapping = StreamMapping(MappingConfig(maximum_retry_attempts=1))
    mapping.offer(records(1, 2, 3), now=0.0)
    assert drain(mapping, lambda b: response) == [[1, 2, 3], [1, 2, 3]]
    assert mapping.discarded == 3 and mapping.succeeded_records == 0


def test_item_failures_are_ignored_when_the_feature_is_off() -> None:
    mapping = StreamMapping(MappingConfig(report_batch_item_failures=False))
    mapping.offer(records(1, 2), now=0.0)
    assert drain(mapping, lambda b: {"batchItemFailures": [{"itemIdentifier": "1"}]}) == [[1, 2]]
    assert mapping.succeeded_records == 2


# --- errors, retries, bisection, expiry ---------------------------------------------------


def test_function_error_retries_whole_batch_until_attempts_run_out() -> None:
    mapping = StreamMapping(MappingConfig(batch_size=2, maximum_retry_attempts=2))
    mapping.offer(records(1, 2, 3), now=0.0)
    discarded: list[int] = []
    delivered: list[list[int]] = []
    while (batch := mapping.next_batch(0.0)) is not None:
        delivered.append(seqs(batch.records))
        discarded += seqs(mapping.complete(batch, fail_on(1)(batch), 0.0))
    assert delivered == [[1, 2], [1, 2], [1, 2], [3]]
    assert discarded == [1, 2]
    assert (mapping.retries, mapping.discarded, mapping.succeeded_records) == (2, 2, 1)


def test_zero_retry_attempts_discards_on_first_failure() -> None:
    mapping = StreamMapping(MappingConfig(maximum_retry_attempts=0))
    mapping.offer(records(1, 2), now=0.0)
    assert drain(mapping, fail_on(2)) == [[1, 2]]
    assert mapping.discarded == 2 and mapping.retries == 0


def test_failing_batch_blocks_later_records() -> None:
    mapping = StreamMapping(MappingConfig(batch_size=2))
    mapping.offer(records(1, 2), now=0.0)
    batch = mapping.next_batch(0.0)
    assert batch is not None
    mapping.offer(records(3), now=0.5)
    mapping.complete(batch, RuntimeError("boom"), 1.0)
    assert mapping.next_deadline() == 1.0
    assert drain(mapping, lambda b: None, 1.0) == [[1, 2], [3]]


def test_bisect_isolates_a_poison_record_without_charging_retries_for_splits() -> None:
    config = MappingConfig(bisect_batch_on_function_error=True, maximum_retry_attempts=1)
    mapping = StreamMapping(config)
    mapping.offer(records(1, 2, 3, 4), now=0.0)
    assert drain(mapping, fail_on(3)) == [[1, 2, 3, 4], [1, 2], [3, 4], [3], [3], [4]]
    assert mapping.take_discarded() == []  # already returned by complete()
    assert (mapping.bisections, mapping.retries, mapping.discarded) == (2, 1, 1)
    assert mapping.succeeded_records == 3


def test_bisect_does_not_apply_to_item_failures() -> None:
    mapping = StreamMapping(MappingConfig(bisect_batch_on_function_error=True))
    mapping.offer(records(1, 2, 3, 4), now=0.0)
    answers = iter([{"batchItemFailures": [{"itemIdentifier": "2"}]}, None])
    assert drain(mapping, lambda b: next(answers)) == [[1, 2, 3, 4], [2, 3, 4]]
    assert mapping.bisections == 0


def test_records_older_than_maximum_age_are_discarded() -> None:
    mapping = StreamMapping(MappingConfig(maximum_record_age_s=60))
    mapping.offer(records(1), now=0.0)
    batch = mapping.next_batch(1.0)
    assert batch is not None
    assert mapping.complete(batch, RuntimeError("boom"), 10.0) == []
    mapping.offer(records(2), now=30.0)
    assert mapping.next_batch(61.0) is not None  # record 1 is 61 s old: gone; 2 is delivered
    assert seqs(mapping.take_discarded()) == [1]
    assert mapping.discarded == 1


def test_completing_a_batch_that_is_not_in_flight_is_an_error() -> None:
    mapping = StreamMapping()
    mapping.offer(records(1), now=0.0)
    batch = mapping.next_batch(0.0)
    assert batch is not None
    mapping.complete(batch, None, 0.0)
    with pytest.raises(SimulatorError):
        mapping.complete(batch, None, 0.0)


def test_filtered_records_can_be_drained_once() -> None:
    from fanoutsim.aws.esm import MappingConfig, StreamMapping

    mapping = StreamMapping(MappingConfig(filter_patterns=({"eventName": ["MODIFY"]},)))
    insert = {"eventName": "INSERT", "dynamodb": {"SequenceNumber": "1"}}
    modify = {"eventName": "MODIFY", "dynamodb": {"SequenceNumber": "2"}}
    assert mapping.offer([insert, modify], 0.0) == 1
    assert mapping.take_filtered() == [insert]
    assert mapping.take_filtered() == []


# --- why a batch was discarded (for an on-failure destination) -----------------------------


def test_a_discard_says_why_and_how_often_its_records_were_invoked() -> None:
    mapping = StreamMapping(MappingConfig(batch_size=2, maximum_retry_attempts=2))
    mapping.offer(records(1, 2, 3), now=0.0)
    drain(mapping, fail_on(1))
    (discard,) = mapping.take_discards()
    assert seqs(discard.records) == [1, 2]
    assert discard.condition == RETRIES_EXHAUSTED == "RetryAttemptsExhausted"
    assert discard.invoke_count == 3 and discard.function_error is True  # 1 + 2 retries
    assert mapping.take_discards() == []  # taken once


def test_a_partial_failure_discard_is_not_a_function_error() -> None:
    mapping = StreamMapping(MappingConfig(maximum_retry_attempts=0))
    mapping.offer(records(1, 2), now=0.0)
    drain(mapping, lambda b: {"batchItemFailures": [{"itemIdentifier": "2"}]})
    (discard,) = mapping.take_discards()
    assert seqs(discard.records) == [2] and discard.function_error is False


def test_records_too_old_are_discarded_for_their_age() -> None:
    mapping = StreamMapping(MappingConfig(maximum_record_age_s=60))
    mapping.offer(records(1), now=0.0)
    batch = mapping.next_batch(1.0)
    assert batch is not None
    mapping.complete(batch, RuntimeError("boom"), 10.0)
    mapping.offer(records(2), now=70.0)
    mapping.next_batch(61.0)  # record 1 waited for its retry past 60 s
    (discard,) = mapping.take_discards()
    assert seqs(discard.records) == [1]
    assert discard.condition == RECORD_AGE_EXCEEDED == "RecordAgeExceeded"
    assert discard.invoke_count == 1 and discard.function_error is True


def test_the_on_failure_destination_must_be_an_sqs_queue() -> None:
    queue = "arn:aws:sqs:us-east-1:123456789012:stream-failures"
    assert MappingConfig(on_failure_destination=queue).on_failure_destination == queue
    with pytest.raises(ConfigError, match="must be an SQS queue's ARN"):
        MappingConfig(on_failure_destination="arn:aws:sns:us-east-1:123456789012:topic")
