"""API Gateway's authorizer step on ``$connect``: identity sources, the cached verdict, the
authorizer function, the policy read as a verdict (the rules are :mod:`fanoutsim.aws.authorizer`;
this runs them against the function runtime)."""

from __future__ import annotations

from typing import Any

from fanoutsim.aws import authorizer as auth
from fanoutsim.runtime.function_runtime import FunctionRuntime

__all__ = ["AuthorizerStep"]


class AuthorizerStep:
    """One API's REQUEST authorizer: ``await decide(connect_event)`` for the verdict."""

    def __init__(self, config: auth.AuthorizerConfig, runtime: FunctionRuntime, arn: str) -> None:
        self.config = config
        self.runtime = runtime
        #: The ``methodArn`` the function is asked about (the API's ``$connect``).
        self.arn = arn
        self.cache = auth.AuthorizerCache(config.ttl_s)

    async def decide(self, event: dict[str, Any]) -> auth.Decision:
        """The verdict for a ``$connect`` event: 401 without the identity sources, else the
        cached verdict for them, else the function's (then cached for the TTL)."""
        key = auth.identity(
            self.config.identity_sources, event["headers"], event.get("queryStringParameters")
        )
        if key is None:
            return auth.Decision(401, reason="Unauthorized")
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        invocation = await self.runtime.invoke_async(
            self.config.function, auth.authorizer_event(event, self.arn)
        )
        decision = auth.decide(invocation.ok, invocation.error, invocation.result, self.arn)
        self.cache.put(key, decision)
        return decision
