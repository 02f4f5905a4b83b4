"""AWS's own figures for a deployed stack, from CloudWatch: what the clients cannot see
(API Gateway's counts, each function's invocations, errors and duration, the stream
function's iterator age)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

__all__ = ["CLOUDWATCH_METRICS", "read_metrics"]

#: What is read: (namespace, metric, statistic, dimension).
CLOUDWATCH_METRICS: Final = (
    ("AWS/ApiGateway", "ConnectCount", "Sum", "ApiId"),
    ("AWS/ApiGateway", "MessageCount", "Sum", "ApiId"),
    ("AWS/ApiGateway", "IntegrationError", "Sum", "ApiId"),
    ("AWS/Lambda", "Invocations", "Sum", "FunctionName"),
    ("AWS/Lambda", "Errors", "Sum", "FunctionName"),
    ("AWS/Lambda", "Duration", "Average", "FunctionName"),
    ("AWS/Lambda", "IteratorAge", "Maximum", "FunctionName"),
)


def read_metrics(
    client: Any, api_id: str, functions: Mapping[str, str], start: datetime, end: datetime
) -> dict[str, float]:
    """Each metric over ``start``..``end`` in one-minute periods, summed (or the largest):
    API Gateway's keyed ``namespace:metric:statistic``, each function's (``functions``:
    name -> physical name) keyed ``...:name``; only ``stream_fanout`` has an iterator age."""
    figures: dict[str, float] = {}
    for namespace, metric, statistic, dimension in CLOUDWATCH_METRICS:
        key = f"{namespace}:{metric}:{statistic}"
        targets = (
            {key: api_id}
            if dimension == "ApiId"
            else {
                f"{key}:{name}": physical
                for name, physical in functions.items()
                if metric != "IteratorAge" or name == "stream_fanout"
            }
        )
        for label, value in targets.items():
            answer = client.get_metric_statistics(
                Namespace=namespace,
                MetricName=metric,
                Dimensions=[{"Name": dimension, "Value": value}],
                StartTime=start,
                EndTime=end,
                Period=60,
                Statistics=[statistic],
            )
            points = [p[statistic] for p in answer.get("Datapoints", [])]
            if points:
                figures[label] = float(sum(points) if statistic == "Sum" else max(points))
    return figures
