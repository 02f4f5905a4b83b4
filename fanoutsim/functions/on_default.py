"""``$default``: answer messages that match no route, so the client learns what went wrong.

Pattern #3 sends from service to subscribers; the only client messages it takes are
``subscribe`` and ``unsubscribe`` (their own route). Any other message is answered with a
small JSON error through the route response, and nothing else happens.
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
                "detail": "this API pushes flight updates; the actions it takes are subscribe "
                "and unsubscribe, with flightIds",
                "receivedBytes": len(body.encode()),
            }
        ),
    }
