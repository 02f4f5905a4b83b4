"""Meter: counting and rounding as AWS bills, and safe under threads.

AWS pages this module checks:

- https://aws.amazon.com/api-gateway/pricing/
- https://aws.amazon.com/lambda/pricing/
"""

from __future__ import annotations

import threading

import pytest

from fanoutsim.aws.metering import Meter, app_id, billed_ms, connection_minutes_for, function_of


def test_invocations_bill_whole_milliseconds_rounded_up() -> None:
    meter = Meter()
    meter.invocation("stream_fanout", 0.2, 1024, cold=True, error=False)
    meter.invocation("stream_fanout", 10.01, 512, cold=False, error=True)
    use = meter.snapshot(0)["invocations"]["stream_fanout"]
    assert use["count"] == 2 and use["cold"] == 1 and use["errors"] == 1
    assert use["billed_ms"] == 1 + 11
    assert use["gb_seconds"] == pytest.approx(0.001 * 1 + 0.011 * 0.5)
    assert billed_ms(3.0) == 3 and billed_ms(0) == 1


def test_operations_messages_and_events() -> None:
    meter = Meter()
    meter.count_call("dynamodb", "PutItem")
    meter.count_call("dynamodb", "PutItem")
    meter.count_call("apigatewaymanagementapi", "PostToConnection")
    meter.websocket_message(100)
    meter.websocket_message(33 * 1024)
    meter.eventbridge_event(65 * 1024)
    snap = meter.snapshot(0)
    assert snap["operations"] == {
        "apigatewaymanagementapi:PostToConnection": 1,
        "dynamodb:PutItem": 2,
    }
    assert snap["websocket"] == {"messages": 2, "units": 3}
    assert snap["eventbridge_events"] == 2 and snap["eventbridge_entries"] == 1


def test_connection_minutes_round_each_connection_up() -> None:
    meter = Meter()
    meter.connection_opened("a", 0.0)
    meter.connection_opened("b", 10.0)
    meter.connection_closed("a", 5.0)  # 5 s -> 1 minute
    meter.connection_closed("a", 99.0)  # already closed: ignored
    meter.connection_closed("zzz", 99.0)  # unknown: ignored
    assert meter.connection_minutes(70.0) == 1 + 1  # b open for 60 s
    assert meter.connection_minutes(70.5) == 1 + 2  # b now in its second minute
    meter.connection_closed("b", 190.0)
    snap = meter.snapshot(1000.0)
    assert snap["connection_minutes"] == 1 + 3 and snap["open_connections"] == 0
    assert connection_minutes_for(0) == 0 and connection_minutes_for(-1) == 0


def test_meter_is_thread_safe() -> None:
    meter = Meter()

    def work() -> None:
        for _ in range(2000):
            meter.count_call("dynamodb", "Query")
            meter.invocation("f", 1.0, 128, cold=False, error=False)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    snap = meter.snapshot(0)
    assert snap["operations"]["dynamodb:Query"] == 16_000
    assert snap["invocations"]["f"]["billed_ms"] == 16_000


def test_a_functions_calls_on_the_aws_endpoint_count_as_the_pipelines() -> None:
    """Every AWS SDK sends ``app/<AWS_SDK_UA_APP_ID>`` in its User-Agent (boto3 and the
    JavaScript SDK v3 alike); a user's function runs with its own id."""
    boto3_ua = (
        "Boto3/1.44.18 md/Botocore#1.44.18 ua/2.1 os/linux lang/python#3.11.7 "
        f"cfg/retry-mode#standard app/{app_id('stream_fanout')} Botocore/1.44.18"
    )
    js_ua = f"aws-sdk-js/3.1177.0 ua/2.1 lang/js api/dynamodb#3.1177.0 app/{app_id('fan_2')}"
    assert function_of(boto3_ua) == "stream_fanout" and function_of(js_ua) == "fan_2"
    assert function_of("aws-cli/2.15 app/mine") is None
    assert function_of(f"x app/{app_id('a')}b/c") is None  # the whole token, nothing glued
    meter = Meter()
    meter.count_endpoint_call("dynamodb", "Scan", boto3_ua)
    meter.count_endpoint_call("dynamodb", "Scan", "aws-cli/2.15")
    snapshot = meter.snapshot(0.0)
    assert snapshot["operations"] == {"dynamodb:Scan": 1}
    assert snapshot["operations_by_function"] == {"stream_fanout": {"dynamodb:Scan": 1}}
    assert snapshot["outside_operations"] == {"dynamodb:Scan": 1}
