"""Every patch of moto's internals, in one place, installed and removed as a pair.

moto models the tables, the stream, the bus and its rules; five of its behaviours need
changing for the pipeline, and each is a patch on one moto object:

- **PutEvents** (the events backend's ``put_events``): entries AWS would reject but moto
  accepts fail per entry (:func:`fanoutsim.aws.eventbridge.validate_entry`), and a request
  over the total size limit fails whole; each accepted entry passes through ``admit``
  (which meters it and may add a trace id) before moto sees it.
- **Rule delivery** (a rule's ``send_to_targets``): moto cannot invoke Lambda targets, so
  each event the rule matches (by our validated matcher: moto treats unknown operators as
  matches) goes to ``on_event`` in AWS's envelope.
- **Shard iterators** (the streams backend's ``shard_iterators``): moto keeps every
  iterator it hands out; they expire after 15 minutes, as DynamoDB Streams' do.
- **The stream shard's records** (its ``items``): kept pickled, about 0.7 KB a record
  instead of about 6.6 KB of nested dicts, and rebuilt when read. Every record stays
  readable, as for the stream's 24-hour retention.
- **The stream shard's** ``add``, and the backend's item writes: moto numbers a record
  ``len(items)`` *before* appending it, so two concurrent writers can get the same sequence
  number (a reader then re-reads one record forever: ``AFTER_SEQUENCE_NUMBER`` points back
  into the list); and an ``update_item`` can change the stored item in place before a
  concurrent ``put_item`` of the same key has built its INSERT record, which then carries
  the update's image. The patch runs each write and its stream append under one lock, as
  DynamoDB records each write's own image, and reports each committed record's trace id to
  ``on_append`` (the ``table_write`` stamp, taken before a fast poller can read it).

:meth:`MotoHooks.remove` restores every patched attribute, newest first. A moto upgrade
that changes these internals breaks here and nowhere else.
"""

from __future__ import annotations

import functools
import hashlib
import json
import pickle
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from typing import Any

import moto.core.responses as moto_responses
from moto.core.exceptions import JsonRESTError
from moto.core.utils import method_names_from_class
from moto.dynamodb.responses import DynamoHandler
from moto.events.exceptions import InvalidEventPatternException, ValidationException

from fanoutsim import tracing
from fanoutsim.aws import eventbridge, kinesis_records
from fanoutsim.aws.patterns import matches, validate_pattern
from fanoutsim.errors import FanoutsimError, ValidationError
from fanoutsim.moto.account import MotoAccount

__all__ = [
    "ITERATOR_LIFETIME_S",
    "ExpiringIterators",
    "MotoHooks",
    "PickledRecord",
    "PickledRecords",
    "aws_envelope",
]

#: How long a DynamoDB Streams shard iterator stays valid after it is returned.
ITERATOR_LIFETIME_S = 15 * 60.0

_MISSING = object()


class MotoHooks:
    """The patches one simulator puts on its :class:`MotoAccount`."""

    def __init__(self, account: MotoAccount) -> None:
        self.account = account
        #: (object, attribute, old instance value or its maker, whether it is a maker)
        self._patches: list[tuple[Any, str, Any, bool]] = []

    def _patch(
        self, target: Any, name: str, replacement: Any, restore: Callable[[], Any] | None = None
    ) -> Any:
        """Set ``target.name``; return the value it had (what the replacement wraps).
        ``restore``, if given, makes the value put back on removal (for data, which may
        have grown since)."""
        original = getattr(target, name)
        old = target.__dict__.get(name, _MISSING) if restore is None else restore
        self._patches.append((target, name, old, restore is not None))
        setattr(target, name, replacement)
        return original

    def remove(self) -> None:
        """Undo every patch, newest first (idempotent)."""
        while self._patches:
            target, name, old, computed = self._patches.pop()
            if computed:
                setattr(target, name, old())
            elif old is _MISSING:
                if name in vars(target):
                    delattr(target, name)
            else:
                setattr(target, name, old)

    @property
    def installed(self) -> int:
        return len(self._patches)

    # ----------------------------------------------------------------- EventBridge
    def validate_put_events(self, admit: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
        """Fail what AWS would fail; pass each accepted entry through ``admit``."""
        backend = self.account.events_backend()
        put_events: Callable[[list[dict[str, Any]]], list[dict[str, Any]]] = backend.put_events

        def validated(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
            try:  # the request as a whole: 1 to 10 entries, within the size cap
                eventbridge.validate_request(entries)
            except ValidationError as refused:
                raise ValidationException(str(refused)) from None
            errors = [eventbridge.validate_entry(entry) for entry in entries]
            valid = [admit(e) for e, error in zip(entries, errors, strict=True) if error is None]
            accepted = iter(put_events(valid))
            return [
                next(accepted)
                if error is None
                else {"ErrorCode": error[0], "ErrorMessage": error[1]}
                for error in errors
            ]

        self._patch(backend, "put_events", validated)

    def validate_rules(self) -> None:
        """Refuse a ``PutRule`` whose event pattern EventBridge would refuse (moto stores any
        pattern, and then matches unknown operators as true), from any caller."""
        backend = self.account.events_backend()
        put_rule: Callable[..., Any] = backend.put_rule

        def validated(name: str, *args: Any, **kwargs: Any) -> Any:
            text = kwargs.get("event_pattern")
            if text:
                try:
                    validate_pattern(json.loads(text))
                except (ValueError, FanoutsimError) as error:
                    raise InvalidEventPatternException(str(error)) from None
            return put_rule(name, *args, **kwargs)

        self._patch(backend, "put_rule", validated)

    def deliver_rule(
        self, bus: str, rule_name: str, on_event: Callable[[dict[str, Any]], None]
    ) -> None:
        """Hand each event ``rule_name`` matches to ``on_event`` instead of moto's targets."""
        rule = self.account.events_backend().describe_rule(rule_name, bus)
        pattern = json.loads(rule.event_pattern.dump() or "{}")
        validate_pattern(pattern)

        def send_to_targets(event: dict[str, Any], transform_input: bool = True) -> None:
            if matches(pattern, event):
                on_event(aws_envelope(event))

        self._patch(rule, "send_to_targets", send_to_targets)

    # ----------------------------------------------------------------- DynamoDB Streams
    def watch_stream(
        self, table_name: str, on_append: Callable[[tuple[str, ...], float], None]
    ) -> None:
        """Serialise DynamoDB's requests, its backend's writes and the appends to
        ``table_name``'s stream shard; report each commit.

        A whole request is one step, reading included: moto's tables are plain dicts, and
        its handlers copy and serialise items after the backend call returns, so a Scan
        (or an update's copy of the item) running beside an update that adds an attribute
        failed with "dictionary changed size during iteration" (a GET /flights during the
        scripted day did)."""
        shard = self.account.table(table_name).stream_shard
        append: Callable[[Any, Any], None] = shard.add
        lock = threading.RLock()
        backend = self.account.dynamodb_backend()
        for name in ("put_item", "update_item", "delete_item", "transact_write_items"):
            self._patch(backend, name, _serialised(getattr(backend, name), lock))
        self._patch(DynamoHandler, "call_action", _serialised(DynamoHandler.call_action, lock))

        def add(old: Any, new: Any) -> None:
            with lock:
                committed = time.perf_counter()  # before a poller can read the record
                append(old, new)
            image = new.to_json()["Attributes"] if new is not None else None
            trace = tracing.from_image(image)
            on_append((trace,) if trace is not None else (), committed)

        self._patch(shard, "add", add)

    def kinesis_destination(
        self,
        table_name: str,
        stream_arn: str,
        stream_name: str,
        on_put: Callable[[int, int], None] = lambda record_bytes, change_bytes: None,
    ) -> None:
        """Copy each change of ``table_name`` into the Kinesis stream, as the table's
        Kinesis Data Streams destination does (moto has none): one record per change, the
        data DynamoDB's JSON change document, the partition key the item's key; ``on_put``
        hears each record's size and the change's (for the meter). Install it before
        :meth:`watch_stream`, so a poller woken by a commit finds the record there."""
        shard = self.account.table(table_name).stream_shard
        append: Callable[[Any, Any], None] = shard.add
        kinesis = self.account.kinesis_backend()
        region = self.account.region

        def add(old: Any, new: Any) -> None:
            append(old, new)
            record = shard.items[-1].to_json()
            change = kinesis_records.change_record(record, table_name, region)
            keys = change["dynamodb"]["Keys"]
            partition = "/".join(str(next(iter(v.values()))) for v in keys.values())
            data = json.dumps(change, default=str).encode()
            kinesis.put_record(stream_arn, stream_name, partition, None, data)
            on_put(len(data), int(change["dynamodb"].get("SizeBytes", 0)))

        self._patch(shard, "add", add)

    def pickle_stream_records(self, table_name: str) -> None:
        """Keep ``table_name``'s stream records pickled (see :class:`PickledRecords`)."""
        shard = self.account.table(table_name).stream_shard
        records = PickledRecords(shard.items)
        self._patch(shard, "items", records, restore=lambda: list(records))  # all kept

    def expire_shard_iterators(
        self, lifetime_s: float = ITERATOR_LIFETIME_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        """Forget each shard iterator ``lifetime_s`` after it was handed out, as DynamoDB
        Streams expires them after 15 minutes; moto keeps every one (about 1.6 KB, one per
        GetRecords) for as long as the process runs."""
        backend = self.account.streams_backend()
        self._patch(
            backend,
            "shard_iterators",
            ExpiringIterators(backend.shard_iterators, lifetime_s, clock),
        )

    def cache_action_names(self) -> None:
        """moto lists a response class's methods (``inspect.getmembers``) on every request
        to find the action's; the list of a class does not change, so it is kept (7-9 % of
        a ``put_item`` against moto, ``bench/connections_post.py --phase put-floor``)."""
        listed = functools.lru_cache(maxsize=256)(method_names_from_class)
        self._patch(moto_responses, "method_names_from_class", listed)


class ExpiringIterators(dict[str, Any]):
    """moto's shard-iterator map, forgetting entries older than the lifetime: as new ones
    arrive (insertion order is age order, so this looks at the oldest only) and when one is
    used. Using an expired iterator raises ``ExpiredIteratorException`` and an unknown one
    ``ValidationException``, as DynamoDB Streams answers, instead of moto's raw KeyError."""

    #: How many expired iterators are remembered, to tell "expired" from "never issued",
    #: each by an 8-byte digest: moto's iterator ARNs are about 750 characters, and
    #: remembering them whole grew memory by about 7 MB over the first hour of a soak.
    REMEMBERED = 10_000

    def __init__(
        self,
        existing: dict[str, Any],
        lifetime_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(existing)
        self._lifetime_s = lifetime_s
        self._clock = clock
        self._issued: dict[str, float] = dict.fromkeys(existing, clock())
        self._expired: OrderedDict[bytes, None] = OrderedDict()

    def _expire(self, arn: str) -> None:
        del self._issued[arn]
        self.pop(arn, None)
        self._expired[_digest(arn)] = None
        while len(self._expired) > self.REMEMBERED:
            self._expired.popitem(last=False)

    def __setitem__(self, arn: str, iterator: Any) -> None:
        now = self._clock()
        while self._issued:  # the oldest first, without copying the map on every call
            oldest, at = next(iter(self._issued.items()))
            if now - at < self._lifetime_s:
                break
            self._expire(oldest)
        self._issued[arn] = now
        super().__setitem__(arn, iterator)

    def __getitem__(self, arn: str) -> Any:
        issued = self._issued.get(arn)
        if issued is not None and self._clock() - issued >= self._lifetime_s:
            self._expire(arn)
        if _digest(arn) in self._expired:
            raise JsonRESTError(
                "ExpiredIteratorException",
                "The shard iterator has expired and can no longer be used to retrieve stream "
                "records (an iterator expires 15 minutes after GetShardIterator returned it).",
            )
        if not super().__contains__(arn):
            raise JsonRESTError("ValidationException", "Invalid ShardIterator")
        return super().__getitem__(arn)


def _digest(arn: str) -> bytes:
    """A short fingerprint of an iterator ARN (moto's carry 472 random bytes)."""
    return hashlib.blake2b(arn.encode(), digest_size=8).digest()


class PickledRecord:
    """One stream record as pickle bytes, with moto's ``to_json`` to rebuild it."""

    __slots__ = ("_data",)

    def __init__(self, record: dict[str, Any]) -> None:
        self._data = pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL)

    def to_json(self) -> dict[str, Any]:
        record: dict[str, Any] = pickle.loads(self._data)  # our own bytes, never a client's
        return record


class PickledRecords(list[PickledRecord]):
    """moto's list of a shard's records, storing each as it is appended as a
    :class:`PickledRecord`: moto keeps every record for the life of the process, and a
    parsed one (typed images, nested dicts) takes about nine times the memory. moto reads
    the list only by ``len``, slices and ``to_json``, which behave as before."""

    def __init__(self, existing: list[Any]) -> None:
        super().__init__(PickledRecord(r.to_json()) for r in existing)

    def append(self, record: Any) -> None:
        super().append(PickledRecord(record.to_json()))


def _serialised(call: Callable[..., Any], lock: threading.RLock) -> Callable[..., Any]:
    def serialised(*args: Any, **kwargs: Any) -> Any:
        with lock:
            return call(*args, **kwargs)

    return serialised


def aws_envelope(event: dict[str, Any]) -> dict[str, Any]:
    """moto's event with AWS's ISO-8601 ``time`` and without moto's extra field."""
    envelope = {k: v for k, v in event.items() if k != "ingestion-time"}
    when = envelope.get("time")
    if isinstance(when, int | float):
        envelope["time"] = eventbridge.iso_time(when)
    elif isinstance(when, datetime):
        envelope["time"] = eventbridge.iso_time(when.timestamp())
    return envelope
