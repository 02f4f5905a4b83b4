"""DynamoDB capacity of a call, read from moto's stored items (sizes as DynamoDB counts them).

:class:`MotoCapacity` is what the instrumentation asks for the bytes a metered write or
read touched (it only knows the port, :class:`fanoutsim.runtime.instrumentation.ItemSizes`).
moto computes item sizes the way DynamoDB documents them (attribute names plus values).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from moto.dynamodb.models.dynamo_type import DynamoType

from fanoutsim.moto.account import MotoAccount

__all__ = ["PAGED_READS", "WRITES", "MotoCapacity", "mean_item_size", "read_bytes", "write_bytes"]

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


class MotoCapacity:
    """Item sizes of one account's tables, for metering."""

    def __init__(self, account: MotoAccount) -> None:
        self.account = account

    def write_bytes(self, operation: str, params: Mapping[str, Any]) -> int | None:
        """Bytes a write touched, or None for an operation that is not a metered write."""
        if operation not in WRITES:
            return None
        return write_bytes(operation, params, self.account.table(params.get("TableName", "")))

    def read_bytes(self, operation: str, parsed: Mapping[str, Any], table_name: str) -> int | None:
        """Bytes a paged read consumed, or None for an operation that is not one."""
        if operation not in PAGED_READS:
            return None
        return read_bytes(operation, parsed, self.account.table(table_name))
