"""Verify the Signature Version 4 signature of a request, as API Gateway does for calls to
the ``@connections`` management API.

The expected signature is computed as the SigV4 specification says (and as botocore's
signer computes it: a test holds the two equal over a corpus of requests) over the headers
the request says it signed, the timestamp it carries and its body, so a client signed by
any SDK or the CLI passes exactly when AWS would let it through. The canonical request is
built here rather than by botocore's signer because this is the ``@connections`` hot path:
botocore's builds an HTTP message object per request (about 3x the time). Answers
follow AWS's: no ``Authorization`` header, ``ForbiddenException`` "Missing Authentication
Token"; an unknown access key, ``UnrecognizedClientException``; a wrong signature, a
timestamp more than 5 minutes from the server's clock, a credential scoped to another region
or a payload hash header that is not the body's, ``InvalidSignatureException``; all with
status 403. The signature binds the region, the service and the body, as AWS's does.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final
from urllib.parse import quote

from botocore.utils import normalize_url_path

from fanoutsim.aws.management import error
from fanoutsim.errors import ManagementError

__all__ = [
    "MAX_SKEW",
    "SigningKeys",
    "canonical_request",
    "signature",
    "verify",
    "verify_credentials",
]

#: How far a request's X-Amz-Date may be from the server's clock.
MAX_SKEW: Final = timedelta(minutes=5)
_AUTH = re.compile(
    r"AWS4-HMAC-SHA256 Credential=(?P<key>[^/,\s]+)/(?P<date>\d{8})/(?P<region>[^/]+)/"
    r"(?P<service>[^/]+)/aws4_request,\s*SignedHeaders=(?P<signed>[a-z0-9;-]+),\s*"
    r"Signature=(?P<signature>[0-9a-f]{64})$"
)


@dataclass(frozen=True)
class SigningKeys:
    """The access keys the stage accepts (access key id -> secret access key) and the
    region it is in: a request signed for another region is refused, as AWS refuses it."""

    secrets: Mapping[str, str]
    region: str | None = None


def _forbidden(code: str, message: str) -> ManagementError:
    return error(code, message, 403)


def _unknown_key() -> ManagementError:
    return _forbidden(
        "UnrecognizedClientException", "The security token included in the request is invalid."
    )


def _mismatch() -> ManagementError:
    return _forbidden(
        "InvalidSignatureException",
        "The request signature we calculated does not match the signature you provided.",
    )


_STAMP = re.compile(r"(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z")


@functools.lru_cache(maxsize=256)
def _timestamp(stamp: str) -> datetime:
    """``X-Amz-Date`` (``20261206T101500Z``) as a time (strptime's rules, without its cost;
    kept, since every request signed in the same second carries the same stamp)."""
    parts = _STAMP.fullmatch(stamp)
    try:
        if parts is None:
            raise ValueError(stamp)
        year, month, day, hour, minute, second = (int(p) for p in parts.groups())
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:
        raise _forbidden("InvalidSignatureException", "X-Amz-Date is missing or bad") from None


def _check_region(keys: SigningKeys, region: str) -> None:
    if keys.region is not None and region != keys.region:
        raise _forbidden(
            "InvalidSignatureException",
            f"Credential should be scoped to a valid region, not '{region}'.",
        )


def verify(
    keys: SigningKeys,
    *,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    now: datetime | None = None,
    services: tuple[str, ...] = ("execute-api",),
) -> str:
    """Check the request's signature; return its access key id or raise ManagementError.
    ``headers`` have lower-case names; ``url`` has the path as sent (percent-encoded);
    ``services``: the signing names this endpoint serves (the management API's is
    ``execute-api``)."""
    authorization = headers.get("authorization", "")
    if not authorization:
        raise _forbidden("ForbiddenException", "Missing Authentication Token")
    parts = _AUTH.match(authorization.strip())
    if parts is None or parts["service"] not in services:
        raise _forbidden(
            "InvalidSignatureException", "Authorization header requires AWS4-HMAC-SHA256"
        )
    secret = keys.secrets.get(parts["key"])
    if secret is None:
        raise _unknown_key()
    stamp = headers.get("x-amz-date", "")
    signed_at = _timestamp(stamp)
    clock = now or datetime.now(UTC)
    if abs(clock - signed_at) > MAX_SKEW:
        raise _forbidden(
            "InvalidSignatureException",
            f"Signature expired: {stamp} is now earlier than "
            f"{(clock - MAX_SKEW):%Y%m%dT%H%M%SZ} ({clock:%Y%m%dT%H%M%SZ} - 5 min.)",
        )
    _check_region(keys, parts["region"])
    claimed = headers.get("x-amz-content-sha256")
    if claimed is not None and claimed != hashlib.sha256(body).hexdigest():
        # the signature would otherwise cover the claimed hash, not the body that came
        # (UNSIGNED-PAYLOAD is S3's alone)
        raise _forbidden(
            "InvalidSignatureException",
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
        )
    signed = parts["signed"].split(";")
    missing = [h for h in signed if h not in headers]
    if "host" not in signed or missing or parts["date"] != stamp[:8]:
        raise _forbidden("InvalidSignatureException", "The signed headers do not match")
    canonical = canonical_request(method, url, {h: headers[h] for h in signed}, body)
    expected = signature(secret, parts["region"], parts["service"], stamp, canonical)
    if not hmac.compare_digest(expected, parts["signature"]):
        raise _mismatch()
    return parts["key"]


def canonical_request(method: str, url: str, signed: Mapping[str, str], body: bytes) -> str:
    """SigV4's canonical request (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv4-create-signed-request.html)
    for a service other than S3: the path as sent, dot segments and repeated slashes
    removed, percent-encoded once more; the query's pairs sorted as sent; ``signed``
    (lower-case names) sorted, values trimmed and inner spaces collapsed; the body's
    SHA-256."""
    rest = url.split("://", 1)[-1]
    slash = rest.find("/")
    target = rest[slash:] if slash >= 0 else ""
    target = target.split("#", 1)[0]
    path, _, query = target.partition("?")
    pairs = sorted(pair.partition("=")[::2] for pair in query.split("&")) if query else []
    names = sorted(signed)
    lines = [
        method.upper(),
        _canonical_path(path),
        "&".join(f"{key}={value}" for key, value in pairs),
        *(f"{name}:{' '.join(signed[name].split())}" for name in names),
        "",
        ";".join(names),
        hashlib.sha256(body).hexdigest(),
    ]
    return "\n".join(lines)


def _canonical_path(path: str) -> str:
    """The path's canonical form: the same for every post to one connection, so a short
    one is kept (a long one, which no connection id makes, is worked out each time)."""
    return _kept_path(path) if len(path) <= 256 else _path_form(path)


def _path_form(path: str) -> str:
    return quote(normalize_url_path(path), safe="/~")


_kept_path = functools.lru_cache(maxsize=4096)(_path_form)


def signature(secret: str, region: str, service: str, stamp: str, canonical: str) -> str:
    """The signature of ``canonical`` at ``stamp``; the key is derived once per secret,
    day, region and service, as the SDKs cache it."""
    scope = f"{stamp[:8]}/{region}/{service}/aws4_request"
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    to_sign = f"AWS4-HMAC-SHA256\n{stamp}\n{scope}\n{digest}"
    key = _signing_key(secret, stamp[:8], region, service)
    return hmac.digest(key, to_sign.encode("utf-8"), hashlib.sha256).hex()


@functools.lru_cache(maxsize=64)
def _signing_key(secret: str, day: str, region: str, service: str) -> bytes:
    """SigV4's derived key: HMAC chain over the day, region, service and ``aws4_request``."""
    key = f"AWS4{secret}".encode()
    for part in (day, region, service, "aws4_request"):
        key = hmac.digest(key, part.encode("utf-8"), hashlib.sha256)
    return key


def verify_credentials(keys: SigningKeys, access_key: str, secret: str, region: str) -> str:
    """What :func:`verify` decides of a request, for a caller that never signs one (the
    in-process transport holds the client's credentials instead of a signature): an
    unknown key, another secret or another region is refused with the same error."""
    known = keys.secrets.get(access_key)
    if known is None:
        raise _unknown_key()
    _check_region(keys, region)
    if not hmac.compare_digest(known.encode(), secret.encode()):
        raise _mismatch()
    return access_key
