"""Stream handler: send every changed flight to every connected client.

For each INSERT/MODIFY record of the flights table's stream, build the client payload, read
the subscribers with a *paginated* Scan (one Scan page stops at 1 MB, the seed's handler
missed everyone past it) and call ``PostToConnection`` for each. A connection that answers
410 Gone is deleted. A record that cannot be delivered is reported in ``batchItemFailures``
together with every later record of the batch, so the event source mapping retries from it
in order (ReportBatchItemFailures).

Environment: ``CONNECTIONS_TABLE``, ``WEBSOCKET_ENDPOINT``.
"""

from __future__ import annotations

import json
from typing import Any

from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError

from fanoutsim.functions.aws_clients import management_api, scan_items, table
from fanoutsim.functions.flight_model import client_payload

__all__ = ["connection_ids", "handler", "post_to_all"]

_deserializer = TypeDeserializer()


def connection_ids() -> list[str]:
    """Every subscriber, across all Scan pages."""
    items = scan_items(table("CONNECTIONS_TABLE"), ProjectionExpression="connectionId")
    return [item["connectionId"] for item in items]


def post_to_all(ids: list[str], data: bytes) -> list[str]:
    """Post ``data`` to each id; delete and return the ids that are gone (410)."""
    api = management_api()
    gone: list[str] = []
    for connection_id in ids:
        try:
            api.post_to_connection(ConnectionId=connection_id, Data=data)
        except ClientError as error:
            if error.response["Error"]["Code"] != "GoneException":
                raise
            gone.append(connection_id)
            table("CONNECTIONS_TABLE").delete_item(Key={"connectionId": connection_id})
    return gone


def _image(record: dict[str, Any]) -> dict[str, Any]:
    raw = record["dynamodb"]["NewImage"]
    return {key: _deserializer.deserialize(value) for key, value in raw.items()}


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    records = event.get("Records", [])
    subscribers: list[str] | None = None
    for index, record in enumerate(records):
        if record.get("eventName") not in ("INSERT", "MODIFY"):
            continue
        try:
            data = json.dumps(client_payload(_image(record), record["eventName"])).encode()
            if subscribers is None:
                subscribers = connection_ids()
            gone = set(post_to_all(subscribers, data))
            subscribers = [c for c in subscribers if c not in gone] if gone else subscribers
        except Exception as error:  # report the failed record and all after it, in order
            print(f"record {record['dynamodb'].get('SequenceNumber')} failed: {error!r}")
            return {
                "batchItemFailures": [
                    {"itemIdentifier": r["dynamodb"]["SequenceNumber"]} for r in records[index:]
                ]
            }
    return {"batchItemFailures": []}
