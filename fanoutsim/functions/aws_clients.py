"""boto3 clients and tables for the handlers, configured only by environment variables.

Clients are created lazily (a Lambda cold start pays for them) and cached per configuration,
so a new endpoint or table name in the environment gets a new client. Each is built once:
workers asking while it is built wait for it (at a first burst of connections, sixteen
workers each built the same table resource, loading the same service models side by side).
"""

from __future__ import annotations

import os
import threading
from functools import lru_cache
from typing import Any

import boto3
from botocore.config import Config

from fanoutsim.errors import ConfigError

__all__ = ["all_items", "env", "management_api", "reset", "scan_items", "table"]


def env(name: str) -> str:
    """A required environment variable, with a clear error when it is missing."""
    value = os.environ.get(name)
    if not value:
        raise ConfigError(f"environment variable {name} is not set")
    return value


@lru_cache(maxsize=16)
def _table(name: str) -> Any:
    return boto3.resource("dynamodb").Table(name)


_BUILDING = threading.Lock()


def table(env_name: str) -> Any:
    """The DynamoDB table named by environment variable ``env_name``."""
    name = env(env_name)
    with _BUILDING:
        return _table(name)


@lru_cache(maxsize=16)
def _management(endpoint: str, pool: int, attempts: int) -> Any:
    config = Config(
        max_pool_connections=max(10, pool),  # one connection per worker
        retries={"mode": "standard", "total_max_attempts": attempts},
    )
    return boto3.client("apigatewaymanagementapi", endpoint_url=endpoint, config=config)


def scan_items(dynamo_table: Any, **kwargs: Any) -> list[dict[str, Any]]:
    """Every item of a Scan, following ``LastEvaluatedKey`` (one page stops at 1 MB: the
    seed's handler read one page and missed every subscriber past it)."""
    return all_items(dynamo_table.scan, **kwargs)


def all_items(read: Any, **kwargs: Any) -> list[dict[str, Any]]:
    """Every item of a paginated ``read`` (a table's ``scan`` or ``query``)."""
    items: list[dict[str, Any]] = []
    while True:
        page = read(**kwargs)
        items.extend(page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def reset() -> None:
    """Forget every cached client, as a new execution environment would (the simulator
    calls this when it starts, so clients pick up its hooks and endpoints)."""
    _table.cache_clear()
    _management.cache_clear()


def management_api(concurrency: int = 1, attempts: int = 3) -> Any:
    """The API Gateway management client for ``WEBSOCKET_ENDPOINT`` (https://.../stage),
    with a connection pool for ``concurrency`` posts at once (botocore's default is 10) and
    ``attempts`` tries per call in botocore's ``standard`` retry mode (3 is its default)."""
    endpoint = env("WEBSOCKET_ENDPOINT")
    with _BUILDING:
        return _management(endpoint, concurrency, attempts)
