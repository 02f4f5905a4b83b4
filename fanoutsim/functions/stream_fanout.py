"""Stream handler: send every changed flight to the clients that are to hear it.

For each INSERT/MODIFY record of the flights table's stream, build the client payload and
post it with ``PostToConnection`` to:

- ``broadcast`` (the seed's design, the default): every connection, read with a
  *paginated* Scan (one Scan page stops at 1 MB; the seed's handler missed everyone past
  it), once per batch;
- ``per-flight``: the flight's subscribers, read with a paginated Query of the
  subscriptions table (:mod:`fanoutsim.functions.subscriptions`), once per record.

Posts go out ``POST_CONCURRENCY`` at a time (default 50: the seed's handler posts to all
subscribers at once with ``Promise.all``, and its SDK client, the AWS SDK for JavaScript
v3, keeps at most 50 sockets per origin unless told otherwise: developer guide, "Configure
maxSockets in Node.js"). A connection that answers 410 Gone is deleted with its
subscriptions. A record that cannot be delivered is reported in ``batchItemFailures``
together with every later record of the batch, so the event source mapping retries from it
in order (ReportBatchItemFailures); what was posted before the failure stays posted, and
arrives again on the retry. Before each record the handler checks its time budget
(``context.get_remaining_time_in_millis()``): when twice its slowest record, or a tenth of
its starting time, no longer fits, it reports the records it has not started as failed,
so the next invocation takes them up untouched instead of the whole batch being cut off
at the timeout and posted again. Each such hand-back uses one of the mapping's retry
attempts, as any partial batch failure does.

A throttled (429) or failed (5xx) post is retried by the SDK itself first: botocore's
``standard`` mode makes up to ``POST_MAX_ATTEMPTS`` attempts (3 by default), with a
jittered backoff of up to 1 s, then 2 s, between them; only then does the record fail.

Environment: ``CONNECTIONS_TABLE``, ``SUBSCRIPTIONS_TABLE``, ``WEBSOCKET_ENDPOINT``;
optional ``FANOUT_MODE`` (``broadcast`` | ``per-flight``), ``POST_CONCURRENCY``,
``POST_MAX_ATTEMPTS`` and ``SEED_BUGS`` (to show the seed's defects: :data:`SEED_BUGS`).
"""

from __future__ import annotations

import base64
import contextvars
import json
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final

from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError

from fanoutsim.errors import ConfigError
from fanoutsim.functions.aws_clients import management_api, scan_items, table
from fanoutsim.functions.flight_model import client_payload
from fanoutsim.functions.seed_bugs import SEED_BUGS, UNPAGINATED_SCAN, active
from fanoutsim.functions.subscriptions import forget_connection, subscribers_of

__all__ = [
    "DEFAULT_POST_ATTEMPTS",
    "DEFAULT_POST_CONCURRENCY",
    "FANOUT_MODES",
    "MAX_POST_ATTEMPTS",
    "MAX_POST_CONCURRENCY",
    "SEED_BUGS",
    "UNPAGINATED_SCAN",
    "connection_ids",
    "fanout_mode",
    "handler",
    "post_attempts",
    "post_concurrency",
    "post_to_all",
    "reset",
    "seed_bugs",
]

FANOUT_MODES: Final = ("broadcast", "per-flight")
DEFAULT_POST_CONCURRENCY: Final = 50
MAX_POST_CONCURRENCY: Final = 1000
#: Attempts per post, the first included: botocore's ``standard`` retry mode's default.
DEFAULT_POST_ATTEMPTS: Final = 3
MAX_POST_ATTEMPTS: Final = 10
#: The share of its time an invocation keeps in reserve before it stops taking records.
BUDGET_RESERVE: Final = 0.1
_deserializer = TypeDeserializer()


def fanout_mode() -> str:
    mode = os.environ.get("FANOUT_MODE", "broadcast")
    if mode not in FANOUT_MODES:
        raise ConfigError(f"FANOUT_MODE must be one of {', '.join(FANOUT_MODES)}, not {mode!r}")
    return mode


def _whole_number(name: str, default: int, top: int) -> int:
    """Environment variable ``name`` as a whole number from 1 to ``top`` (ASCII digits only:
    ``"²".isdigit()`` is true, and ``int("²")`` raises)."""
    raw = os.environ.get(name, str(default))
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= top:
        raise ConfigError(f"{name} must be a whole number from 1 to {top}, not {raw!r}")
    return int(raw)


def post_concurrency() -> int:
    return _whole_number("POST_CONCURRENCY", DEFAULT_POST_CONCURRENCY, MAX_POST_CONCURRENCY)


def post_attempts() -> int:
    """How many times the SDK tries one post before the record fails (``POST_MAX_ATTEMPTS``)."""
    return _whole_number("POST_MAX_ATTEMPTS", DEFAULT_POST_ATTEMPTS, MAX_POST_ATTEMPTS)


def seed_bugs() -> frozenset[str]:
    """The seed's defects this deployment reproduces on purpose (``SEED_BUGS``)."""
    return active()


def connection_ids() -> list[str]:
    """Every subscriber, across all Scan pages (with the seed's bug: the first page only,
    so everyone past its 1 MB is skipped without a word)."""
    connections = table("CONNECTIONS_TABLE")
    if UNPAGINATED_SCAN in seed_bugs():
        items = connections.scan(ProjectionExpression="connectionId").get("Items", [])
    else:
        items = scan_items(connections, ProjectionExpression="connectionId")
    return [item["connectionId"] for item in items]


def _post(api: Any, connection_id: str, data: bytes) -> bool:
    """Post once; False if the connection is gone (its rows are then deleted)."""
    try:
        api.post_to_connection(ConnectionId=connection_id, Data=data)
    except ClientError as error:
        if error.response["Error"]["Code"] != "GoneException":
            raise
        forget_connection(connection_id)
        return False
    return True


_pools: dict[int, ThreadPoolExecutor] = {}
_pools_lock = threading.Lock()


def _post_pool(workers: int) -> ThreadPoolExecutor:
    """The posting threads, kept between invocations as an execution environment keeps
    its module state (starting up to ``workers`` threads for every record cost more than
    the posts and left the process's memory fragmented)."""
    with _pools_lock:
        if workers not in _pools:
            _pools[workers] = ThreadPoolExecutor(workers, thread_name_prefix="post")
        return _pools[workers]


def reset() -> None:
    """Stop the posting threads (the simulator calls this when it stops)."""
    with _pools_lock:
        pools = list(_pools.values())
        _pools.clear()
    for pool in pools:
        pool.shutdown(wait=True, cancel_futures=True)


def post_to_all(ids: list[str], data: bytes, concurrency: int = 1) -> list[str]:
    """Post ``data`` to each id, ``concurrency`` at a time; return the ids that are gone.
    The first other error is raised once every started post has finished."""
    api = management_api(concurrency, post_attempts())
    if concurrency <= 1 or len(ids) <= 1:
        return [c for c in ids if not _post(api, c, data)]
    pool = _post_pool(concurrency)
    # each post runs in a copy of this context, so it still belongs to this invocation
    futures = [pool.submit(contextvars.copy_context().run, _post, api, c, data) for c in ids]
    results = [f.exception() or f.result() for f in futures]
    for outcome in results:
        if isinstance(outcome, BaseException):
            raise outcome
    return [c for c, ok in zip(ids, results, strict=True) if ok is False]


def _change(record: dict[str, Any]) -> tuple[str, dict[str, Any], str]:
    """(event name, change block, item identifier) of a record from the table's DynamoDB
    stream, or from a Kinesis stream carrying the table's changes (the seed's feed: the
    data is DynamoDB's change document, base64; failures are keyed by the Kinesis
    sequence number)."""
    if record.get("eventSource") == "aws:kinesis":
        data = json.loads(base64.b64decode(record["kinesis"]["data"]))
        return str(data.get("eventName", "")), data["dynamodb"], record["kinesis"]["sequenceNumber"]
    block = record["dynamodb"]
    return str(record.get("eventName", "")), block, str(block["SequenceNumber"])


def _image(block: dict[str, Any]) -> dict[str, Any]:
    return {key: _deserializer.deserialize(value) for key, value in block["NewImage"].items()}


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    records = event.get("Records", [])
    mode, concurrency = fanout_mode(), post_concurrency()
    everyone: list[str] | None = None
    slowest = 0.0  # seconds the slowest record of this batch took
    budget = _seconds_left(context)  # what this invocation had when it started
    for index, record in enumerate(records):
        event_name, block, identifier = _change(record)
        if event_name not in ("INSERT", "MODIFY"):
            continue
        if index and not _time_for_another(context, slowest, budget):
            print(f"time budget: {len(records) - index} records left for the next invocation")
            return _failures(records[index:])
        started = _now()
        try:
            image = _image(block)
            data = json.dumps(client_payload(image, event_name)).encode()
            if mode == "per-flight":
                post_to_all(subscribers_of(str(image["flightId"])), data, concurrency)
            else:
                if everyone is None:
                    everyone = connection_ids()
                gone = set(post_to_all(everyone, data, concurrency))
                everyone = [c for c in everyone if c not in gone] if gone else everyone
        except Exception as error:  # report the failed record and all after it, in order
            print(f"record {identifier} failed: {error!r}")
            return _failures(records[index:])
        slowest = max(slowest, _now() - started)  # in every mode (per-flight never learnt it)
    return {"batchItemFailures": []}


_now = time.monotonic  # the handler's clock (a test moves it)


def _failures(records: list[dict[str, Any]]) -> dict[str, Any]:
    """``records`` reported failed, so the mapping retries from the first of them."""
    return {"batchItemFailures": [{"itemIdentifier": _change(r)[2]} for r in records]}


def _seconds_left(context: Any) -> float | None:
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return remaining() / 1000 if remaining is not None else None


def _time_for_another(context: Any, slowest_s: float, budget_s: float | None) -> bool:
    """Whether another record fits before the timeout: twice the slowest record so far,
    and a tenth of the time the invocation started with, must remain. Stopping early hands
    the rest to the next invocation untouched; running into the timeout would lose the
    batch's result and post everything again on the retry."""
    left = _seconds_left(context)
    if left is None or budget_s is None:
        return True
    return left > max(2 * slowest_s, BUDGET_RESERVE * budget_s)
