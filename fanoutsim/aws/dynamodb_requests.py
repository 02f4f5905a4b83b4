"""DynamoDB's request limits that moto does not enforce, as pure rules over a request body.

A 1,000-item ``BatchWriteItem`` is refused by DynamoDB (at most 25 put or delete requests)
but accepted by moto, and then slows every later Scan; the AWS endpoint asks
:func:`request_error` before moto sees a request. Limits come from ``limits.toml`` with
their pages.
"""

from __future__ import annotations

import json
from typing import Any

from fanoutsim.aws.limits import limit

__all__ = ["request_error"]


def _count(request_items: Any, key: str | None) -> int:
    if not isinstance(request_items, dict):
        return 0
    total = 0
    for entry in request_items.values():
        if key is None:
            total += len(entry) if isinstance(entry, list) else 0
        elif isinstance(entry, dict) and isinstance(entry.get(key), list):
            total += len(entry[key])
    return total


def request_error(operation: str, body: bytes) -> tuple[str, str] | None:
    """DynamoDB's (error code, message) for a request over a limit moto lacks, else None.
    A body that is not JSON is left to moto, which answers it as DynamoDB does."""
    if operation not in ("BatchWriteItem", "BatchGetItem"):
        return None
    try:
        request = json.loads(body or b"{}")
    except ValueError:
        return None
    items = request.get("RequestItems") if isinstance(request, dict) else None
    if operation == "BatchWriteItem":
        count, most = _count(items, None), limit("dynamodb_batch_write_items")
    else:
        count, most = _count(items, "Keys"), limit("dynamodb_batch_get_items")
    if count > most:
        return (
            "ValidationException",
            f"Too many items requested for the {operation} call ({count}; at most {most})",
        )
    return None
