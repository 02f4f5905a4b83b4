"""Property-based tests of the pure core: on any input the semantics hold, or fail with
the documented error, never with another one.

Sources:
https://docs.aws.amazon.com/apigateway/latest/developerguide/websocket-api-develop-routes.html
(route selection, ``$default``),
https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html
(pattern syntax),
https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-batchfailurereporting.html
(checkpointing at the lowest failed record) and
https://aws.amazon.com/api-gateway/pricing/ (messages billed in 32 KB units).
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fanoutsim.aws import apigw, management, patterns
from fanoutsim.aws.esm import MappingConfig, StreamMapping
from fanoutsim.errors import InvalidEventPattern, ManagementError, RouteNotFound
from tests.aws.records import make_record, seqs

OPERATORS = ["prefix", "anything-but", "exists", "numeric", "nope", "wildcard"]
ROUTES = {"$connect": "c", "$disconnect": "d", "$default": "x", "subscribe": "s"}
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(st.text() | JSON.map(json.dumps))
def test_any_message_goes_to_a_named_route_or_default(body: str) -> None:
    route = apigw.select_route(body, ROUTES)
    assert route in ("$default", "subscribe")
    try:
        action = json.loads(body).get("action")
    except (ValueError, AttributeError, RecursionError):
        action = None
    assert (route == "subscribe") == (action == "subscribe")


@given(st.text())
def test_without_default_an_unroutable_message_is_route_not_found(body: str) -> None:
    routes = {k: v for k, v in ROUTES.items() if k != "$default"}
    with contextlib.suppress(RouteNotFound):
        assert apigw.select_route(body, routes) == "subscribe"


@given(st.integers(min_value=0, max_value=10 * 1024 * 1024))
def test_messages_bill_one_unit_per_started_32_kb(size: int) -> None:
    units = apigw.message_units(size)
    assert units >= 1
    assert (units - 1) * apigw.FRAME_BYTES < max(size, 1) <= units * apigw.FRAME_BYTES


@given(
    st.dictionaries(
        st.sampled_from(["source", "detail-type", "detail"]),
        st.lists(
            st.text(max_size=5)
            | st.integers()
            | st.dictionaries(
                st.sampled_from(
                    ["prefix", "anything-but", "exists", "numeric", "nope", "wildcard"]
                ),
                st.text(max_size=3) | st.booleans() | st.lists(st.text(max_size=3), max_size=2),
                min_size=1,
                max_size=1,
            ),
            max_size=3,
        ),
        max_size=3,
    ),
    JSON,
)
def test_a_pattern_is_valid_and_matches_or_is_refused_never_silently_true(
    pattern: dict[str, Any], event: Any
) -> None:
    try:
        patterns.validate_pattern(pattern)
    except InvalidEventPattern:
        return
    operators = [o for v in pattern.values() for o in v if isinstance(o, dict)]
    assert not any("nope" in o for o in operators)  # unknown operators are refused
    assert isinstance(patterns.matches(pattern, event), bool)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(
    batch_size=st.integers(min_value=1, max_value=5),
    retries=st.integers(min_value=0, max_value=3),
    bisect=st.booleans(),
    outcomes=st.lists(st.sampled_from(["ok", "error", "partial", "timeout"]), max_size=40),
    count=st.integers(min_value=1, max_value=12),
)
def test_the_mapping_processes_every_record_once_or_discards_it_in_order(
    batch_size: int, retries: int, bisect: bool, outcomes: list[str], count: int
) -> None:
    mapping = StreamMapping(
        MappingConfig(
            batch_size=batch_size,
            maximum_retry_attempts=retries,
            bisect_batch_on_function_error=bisect,
            report_batch_item_failures=True,
        )
    )
    mapping.offer([make_record(n) for n in range(1, count + 1)], 0.0)
    succeeded: list[int] = []
    discarded: list[int] = []
    steps = iter(outcomes)
    for _ in range(500):
        batch = mapping.next_batch(0.0)
        if batch is None:
            break
        numbers = seqs(batch.records)
        outcome = next(steps, "ok")
        if outcome in ("error", "timeout"):
            result: Any = RuntimeError(outcome)
        elif outcome == "partial":
            cut = len(numbers) // 2
            result = {"batchItemFailures": [{"itemIdentifier": str(n)} for n in numbers[cut:]]}
            succeeded += numbers[:cut]
        else:
            result = {"batchItemFailures": []}
            succeeded += numbers
        discarded += seqs(mapping.complete(batch, result, 0.0))
    assert mapping.next_batch(0.0) is None and mapping.idle  # nothing left behind
    # every record is processed or discarded, and processed ones only once
    assert sorted(set(succeeded) | set(discarded)) == list(range(1, count + 1))
    assert len(succeeded) == len(set(succeeded)) and not set(succeeded) & set(discarded)
    if not bisect:  # one shard, no splitting: records complete in stream order
        assert succeeded == sorted(succeeded)


@given(st.text(max_size=40), st.binary(max_size=200_000))
def test_the_management_api_answers_any_post_with_a_documented_verdict(
    connection_id: str, data: bytes
) -> None:
    api = management.ManagementApi()
    try:
        api.post(connection_id, data)
    except ManagementError as error:
        assert error.code in management.ERROR_STATUS
        assert error.status == management.ERROR_STATUS[error.code]
        status, headers, body = management.wire(error)
        assert status == error.status
        assert headers["x-amzn-ErrorType"] == error.code and json.loads(body)["message"]
    else:  # pragma: no cover - no connection is registered, so every post fails
        raise AssertionError("a post to an unknown connection succeeded")
