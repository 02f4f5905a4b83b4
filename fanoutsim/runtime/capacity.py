"""DynamoDB capacity of a call, read from moto's stored items (sizes as DynamoDB counts them).

Used by the instrumentation to meter write and read request units of the pipeline's calls.
moto computes item sizes the way DynamoDB documents them (attribute names plus values).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from moto.dynamodb.models.dynamo_type import DynamoType

WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem"})
PAGED_READS = frozenset({"Scan", "Query"})


def stored_item_size(table: Any, key: Mapping[str, Any]) -> int | None:
    """Size in bytes of the item stored under ``key`` (typed, e.g. ``{"id": {"S": "x"}}``)."""
    if not key:
        return None
    hash_value = DynamoType(next(iter(key.values())))
    item = table.items.get(hash_value)
    return int(item.size()) if item is not None and hasattr(item, "size") else None


def mean_item_size(table: Any) -> float:
    """Average stored item size of a hash-key table (0 when empty)."""
    items = [i for i in table.items.values() if hasattr(i, "size")]
    return sum(i.size() for i in items) / len(items) if items else 0.0


def write_bytes(operation: str, params: Mapping[str, Any], table: Any | None) -> int:
    """Bytes a write touched: the stored item (after Put/Update), else a conservative 1."""
    key = params.get("Key") or _key_of(params.get("Item"), table)
    size = stored_item_size(table, key) if table is not None and key else None
    return size if size is not None else 1


def read_bytes(operation: str, parsed: Mapping[str, Any], table: Any | None) -> int:
    """Bytes a read consumed: scanned items x their mean size (projections do not help)."""
    if table is None:
        return 1
    if operation in PAGED_READS:
        return int(int(parsed.get("ScannedCount", 0)) * mean_item_size(table))
    return 1


def _key_of(item: Mapping[str, Any] | None, table: Any | None) -> dict[str, Any]:
    if not item or table is None:
        return {}
    name = table.hash_key_attr
    return {name: item[name]} if name in item else {}
