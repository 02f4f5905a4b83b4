"""``$default``: answer messages that match no route, so the client learns what went wrong.

Pattern #3 only sends from service to subscribers; a message from a client is answered with
a small JSON error through the route response, and nothing else happens.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["handler"]


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    body = event.get("body") or ""
    return {
        "statusCode": 200,
        "body": json.dumps(
            {
                "error": "unsupported message",
                "detail": "this API only pushes flight updates; no action is accepted",
                "receivedBytes": len(body.encode()),
            }
        ),
    }
