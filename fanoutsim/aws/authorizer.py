"""API Gateway's side of a Lambda REQUEST authorizer on a WebSocket API's ``$connect``.

Pure semantics; the gateway runs the function. What is reproduced (``docs/fidelity.md``):

- identity sources (``route.request.querystring.<name>``, ``route.request.header.<name>``)
  must all be present and non-empty, or API Gateway answers 401 without calling the
  function; with none configured the function is always called;
- the function raising ``Unauthorized`` is 401; any other failure, or a result that is not
  a valid policy, is 500; a Deny that matches the method ARN, or no Allow that does, is 403;
- the result's ``principalId`` and ``context`` (string, number and boolean values only)
  reach every route of the connection in ``requestContext.authorizer``;
- caching: ``AuthorizerResultTtlInSeconds`` is documented for HTTP API authorizers only, so
  a WebSocket API calls its authorizer on every ``$connect`` (TTL 0, the default). A TTL
  above 0 caches the decision per identity, as REST and HTTP APIs do, to show what caching
  saves; it needs identity sources to key on.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fanoutsim.errors import ConfigError

__all__ = [
    "MAX_CACHED",
    "MAX_TTL_S",
    "AuthorizerCache",
    "AuthorizerConfig",
    "Decision",
    "authorizer_event",
    "decide",
    "identity",
    "method_arn",
]

MAX_TTL_S = 3600
MAX_CACHED = 10_000  # identities cached at once
_PRUNE_AT = 1_000
_SOURCE = re.compile(r"route\.request\.(querystring|header)\.([A-Za-z0-9._-]+)")


@dataclass(frozen=True)
class AuthorizerConfig:
    """The authorizer attached to ``$connect``: its function, identity sources and TTL."""

    function: str = "authorizer"
    identity_sources: tuple[str, ...] = ()
    ttl_s: int = 0

    def __post_init__(self) -> None:
        for source in self.identity_sources:
            if not _SOURCE.fullmatch(source):
                raise ConfigError(
                    f"identity source {source!r} is not route.request.querystring.<name> "
                    "or route.request.header.<name>"
                )
        if not 0 <= self.ttl_s <= MAX_TTL_S:
            raise ConfigError(f"authorizer ttl_s must be from 0 to {MAX_TTL_S}")
        if self.ttl_s and not self.identity_sources:
            raise ConfigError("a cached authorizer (ttl_s > 0) needs identity sources")


@dataclass(frozen=True)
class Decision:
    """What API Gateway does with the upgrade: its status, and for 200 the identity."""

    status: int
    principal: str | None = None
    context: Mapping[str, Any] = field(default_factory=dict)
    reason: str = ""

    @property
    def allowed(self) -> bool:
        return self.status == 200

    def request_context(self, latency_ms: int) -> dict[str, Any]:
        """``requestContext.authorizer`` of the connection's events."""
        return {"principalId": self.principal, **self.context, "integrationLatency": latency_ms}


def method_arn(region: str, account: str, api_id: str, stage: str) -> str:
    return f"arn:aws:execute-api:{region}:{account}:{api_id}/{stage}/$connect"


def identity(
    sources: tuple[str, ...], headers: Mapping[str, str], query: Mapping[str, str] | None
) -> tuple[str, ...] | None:
    """The identity sources' values, or None when one is missing or empty (401)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    values = []
    for source in sources:
        match = _SOURCE.fullmatch(source)
        assert match is not None  # validated in AuthorizerConfig
        kind, name = match.groups()
        value = (query or {}).get(name) if kind == "querystring" else lowered.get(name.lower())
        if not value:
            return None
        values.append(value)
    return tuple(values)


def authorizer_event(connect_event: Mapping[str, Any], arn: str) -> dict[str, Any]:
    """The REQUEST authorizer's input: the ``$connect`` request plus type and methodArn."""
    keys = (
        "headers",
        "multiValueHeaders",
        "queryStringParameters",
        "multiValueQueryStringParameters",
        "requestContext",
    )
    event = {"type": "REQUEST", "methodArn": arn, "stageVariables": {}}
    event.update({k: connect_event[k] for k in keys if k in connect_event})
    return event


def _matches(pattern: str, value: str) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value) is not None


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def decide(ok: bool, error: str | None, result: Any, arn: str) -> Decision:
    """API Gateway's verdict on an authorizer invocation for method ``arn``."""
    if not ok:
        if error is not None and error.endswith(": Unauthorized"):
            return Decision(401, reason="Unauthorized")
        return Decision(500, reason=f"authorizer failed: {error}")
    try:
        principal = result["principalId"]
        statements = _listed(result["policyDocument"]["Statement"])
        context = dict(result.get("context") or {})
    except (KeyError, TypeError) as missing:
        return Decision(500, reason=f"authorizer result has no {missing}")
    if any(not isinstance(v, str | int | float | bool) for v in context.values()):
        return Decision(500, reason="context values must be strings, numbers or booleans")
    effects = set()
    for statement in statements:
        if not isinstance(statement, dict):
            return Decision(500, reason="policy statement is not an object")
        actions = _listed(statement.get("Action", []))
        resources = _listed(statement.get("Resource", []))
        if any(_matches(a, "execute-api:Invoke") for a in actions) and any(
            _matches(r, arn) for r in resources
        ):
            effects.add(statement.get("Effect"))
    if "Deny" in effects or "Allow" not in effects:
        return Decision(403, str(principal), reason="Forbidden")
    return Decision(200, str(principal), context)


class AuthorizerCache:
    """Decisions per identity for ``ttl_s`` seconds (nothing cached at TTL 0)."""

    def __init__(self, ttl_s: int, clock: Any = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self._clock = clock
        self._entries: dict[tuple[str, ...], tuple[float, Decision]] = {}
        self.hits = 0

    def get(self, key: tuple[str, ...]) -> Decision | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] <= self._clock():
            del self._entries[key]
            return None
        self.hits += 1
        return entry[1]

    def put(self, key: tuple[str, ...], decision: Decision) -> None:
        if not self.ttl_s or decision.status not in (200, 403):  # failures are not cached
            return
        now = self._clock()
        if len(self._entries) >= _PRUNE_AT:
            self._entries = {k: v for k, v in self._entries.items() if v[0] > now}
        while len(self._entries) >= MAX_CACHED:  # bounded: the oldest go first
            del self._entries[next(iter(self._entries))]
        self._entries[key] = (now + self.ttl_s, decision)
