"""Connection tokens: a user id and an expiry, signed with HMAC-SHA256.

The form is ``<payload>.<signature>``, both base64url without padding; the payload is the
JSON ``{"sub": user, "exp": epoch seconds}``. The simulator mints them per user; the
``$connect`` authorizer (:mod:`fanoutsim.functions.authorizer`) verifies them with the same
secret. Small on purpose: a deployment would use a JWT from its identity provider.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from dataclasses import dataclass

from fanoutsim.errors import InvalidToken, ValidationError

__all__ = ["Claims", "InvalidToken", "mint", "verify"]

_USER = re.compile(r"[A-Za-z0-9_.@-]{1,64}")


@dataclass(frozen=True)
class Claims:
    """Who a valid token speaks for, and until when (epoch seconds)."""

    user: str
    expires_at: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(payload: str, secret: str) -> str:
    return _b64(hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest())


def mint(user: str, secret: str, *, ttl_s: int = 3600, now: float | None = None) -> str:
    """A token for ``user`` valid for ``ttl_s`` seconds from ``now``."""
    if not _USER.fullmatch(user):
        raise ValidationError(f"user must be 1-64 of letters, digits and _.@- , not {user!r}")
    if ttl_s <= 0:
        raise ValidationError("ttl_s must be > 0")
    expires = int((time.time() if now is None else now) + ttl_s)
    payload = _b64(json.dumps({"sub": user, "exp": expires}, separators=(",", ":")).encode())
    return f"{payload}.{_signature(payload, secret)}"


def verify(token: str, secret: str, *, now: float | None = None) -> Claims:
    """The claims of a genuine, unexpired token; :class:`InvalidToken` otherwise."""
    if not token.isascii():  # a minted token is base64url: anything else is not one
        raise InvalidToken("not ASCII")
    payload, dot, signature = token.partition(".")
    if not dot or not hmac.compare_digest(signature, _signature(payload, secret)):
        raise InvalidToken("bad signature")
    try:
        claims = json.loads(_unb64(payload))
        user, expires = claims["sub"], claims["exp"]
    except (ValueError, KeyError, TypeError) as error:
        raise InvalidToken(f"bad payload: {error}") from None
    if not isinstance(user, str) or not isinstance(expires, int):
        raise InvalidToken("bad payload")
    if expires <= (time.time() if now is None else now):
        raise InvalidToken("expired")
    return Claims(user, expires)
