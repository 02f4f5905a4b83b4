"""The ``$connect`` REQUEST authorizer: who is connecting, from a signed token.

The token (:mod:`fanoutsim.functions.tokens`) comes from the ``token`` query parameter or
the ``Authorization`` header (``Bearer <token>`` or the bare token), since browsers cannot
set headers on a WebSocket. Environment: ``AUTH_SECRET`` (the signing secret); optional
``DENIED_USERS`` (comma-separated user ids answered with a Deny policy, to show 403).

No token, a forged or an expired one: the handler raises ``Unauthorized``, which API
Gateway answers with 401. A denied user gets a Deny policy (403). Otherwise an Allow policy
for the ``$connect`` method ARN with ``principalId`` and a context that API Gateway passes
to every route of the connection in ``requestContext.authorizer``.
"""

from __future__ import annotations

import os
from typing import Any

from fanoutsim.functions import tokens

__all__ = ["handler", "policy"]


def policy(principal: str, effect: str, resource: str, context: dict[str, Any]) -> dict[str, Any]:
    """An authorizer result as API Gateway expects it."""
    return {
        "principalId": principal,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}],
        },
        "context": context,
    }


def _token(event: dict[str, Any]) -> str | None:
    query = event.get("queryStringParameters") or {}
    if query.get("token"):
        return str(query["token"])
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    value = str(headers.get("authorization", "")).strip()
    if value.lower().startswith("bearer "):
        value = value[7:].strip()
    return value or None


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    token = _token(event)
    if token is None:
        raise Exception("Unauthorized")  # API Gateway's convention for 401
    try:
        claims = tokens.verify(token, os.environ["AUTH_SECRET"])
    except tokens.InvalidToken:
        raise Exception("Unauthorized") from None
    denied = {u.strip() for u in os.environ.get("DENIED_USERS", "").split(",") if u.strip()}
    effect = "Deny" if claims.user in denied else "Allow"
    return policy(
        claims.user,
        effect,
        event["methodArn"],
        {"userId": claims.user, "expiresAt": claims.expires_at},
    )
