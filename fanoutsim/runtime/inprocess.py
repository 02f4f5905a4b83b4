"""The in-process transport of the management API: ``PostToConnection`` calls whose
endpoint belongs to the local gateway are answered inside the calling thread, with no HTTP.

A botocore ``before-call`` handler on the boto3 default session (which every client
created later copies) short-circuits the call: the verdict comes from the same
:class:`~fanoutsim.aws.management.ManagementApi` the HTTP transport asks, and an error is
returned in the parsed form botocore would have built from the wire, so the handler code
sees the same ``ClientError``. No request is signed on this path, so the caller's
credentials and region are checked against the stage's keys instead
(:func:`~fanoutsim.aws.sigv4.verify_credentials`): wrong keys get the 403 that HTTP gives.
Other operations (GetConnection, DeleteConnection) go over HTTP as usual.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from fanoutsim.aws import management, sigv4
from fanoutsim.aws.management import ConnectionRecord, ManagementApi
from fanoutsim.errors import ManagementError
from fanoutsim.runtime.instrumentation import session_events

__all__ = ["InProcessTransport"]

_EVENT = "before-call.apigatewaymanagementapi.PostToConnection"
_ID = "fanoutsim-inprocess"


class _Response:
    """The minimum of an HTTP response botocore reads after a short-circuited call."""

    def __init__(self, status: int) -> None:
        self.status_code = status
        self.headers: dict[str, str] = {}
        self.content = b""
        self.raw = None


def _body(params: dict[str, Any]) -> bytes:
    body = params.get("body", b"")
    if isinstance(body, bytes):
        return body
    return bytes(body.read() if hasattr(body, "read") else body)


class InProcessTransport:
    """Answers posts to ``base_url`` from ``api`` and hands accepted ones to ``send``."""

    def __init__(
        self,
        api: ManagementApi,
        send: Callable[[ConnectionRecord, bytes], None],
        base_url: str,
        keys: sigv4.SigningKeys,
    ) -> None:
        self.api = api
        self.keys = keys
        self.send = send
        self.base_url = base_url
        self._events: Any = None

    def install(self) -> None:
        self._events = session_events()
        self._events.register(_EVENT, self._before_call, unique_id=_ID)

    def uninstall(self) -> None:
        if self._events is not None:
            self._events.unregister(_EVENT, unique_id=_ID)
            self._events = None

    def _before_call(
        self, model: Any, params: dict[str, Any], request_signer: Any = None, **_: Any
    ) -> Any:
        url: str = params.get("url", "")
        if not url.startswith(self.base_url + "/"):
            return None  # another endpoint: let botocore send it
        connection_id = unquote(url.rsplit("/", 1)[-1])
        data = _body(params)
        try:
            self._check(request_signer)
            record = self.api.post(connection_id, data)
        except ManagementError as failure:
            return _Response(failure.status), {
                "Error": {"Code": failure.code, "Message": failure.message},
                "ResponseMetadata": {"HTTPStatusCode": failure.status},
            }
        self.send(record, data)
        return _Response(200), {"ResponseMetadata": {"HTTPStatusCode": 200}}

    def _check(self, signer: Any) -> None:
        """The caller's credentials, as a signature by them would be checked."""
        credentials = getattr(signer, "_credentials", None)
        if credentials is None:  # an unsigned client
            raise management.error("ForbiddenException", "Missing Authentication Token")
        frozen = credentials.get_frozen_credentials()
        region = str(getattr(signer, "_region_name", "") or "")
        sigv4.verify_credentials(self.keys, frozen.access_key, frozen.secret_key, region)
