"""What each function's role may do: the AWS calls its handler makes, on which resources.

One table drives both the template's IAM policies and the test that runs the whole pipeline
and compares what every handler really called (the meter counts calls per function) with
what is granted here, so a new call cannot ship without its permission and no grant
outlives the call that needed it.

Resources are named by the template's logical ids (``ConnectionsTable``...), so a grant
covers this stack's own tables and API only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

__all__ = [
    "CALLS",
    "LOG_ACTIONS",
    "STREAM_READ_ACTIONS",
    "TABLE_RESOURCES",
    "iam_action",
    "policy_statements",
]

#: Logical id of the table each handler environment variable names.
TABLE_RESOURCES: Final = {
    "CONNECTIONS_TABLE": "ConnectionsTable",
    "SUBSCRIPTIONS_TABLE": "SubscriptionsTable",
    "FLIGHTS_TABLE": "FlightsTable",
}

#: function -> {boto3 call ("service:Operation") -> the resources it touches}. A resource is
#: a table's environment variable name or ``"@connections"`` (this API's stage).
CALLS: Final[Mapping[str, Mapping[str, tuple[str, ...]]]] = {
    "on_connect": {
        "dynamodb:PutItem": ("CONNECTIONS_TABLE",),
        "dynamodb:BatchWriteItem": ("SUBSCRIPTIONS_TABLE",),
    },
    "on_disconnect": {
        "dynamodb:DeleteItem": ("CONNECTIONS_TABLE",),
        "dynamodb:BatchWriteItem": ("SUBSCRIPTIONS_TABLE",),
    },
    "on_default": {},
    "on_subscribe": {
        "dynamodb:GetItem": ("CONNECTIONS_TABLE",),
        "dynamodb:UpdateItem": ("CONNECTIONS_TABLE",),
        "dynamodb:BatchWriteItem": ("SUBSCRIPTIONS_TABLE",),
    },
    "flight_events": {
        "dynamodb:PutItem": ("FLIGHTS_TABLE",),
        "dynamodb:UpdateItem": ("FLIGHTS_TABLE",),
    },
    "stream_fanout": {
        "dynamodb:Scan": ("CONNECTIONS_TABLE",),
        "dynamodb:Query": ("SUBSCRIPTIONS_TABLE",),
        "dynamodb:DeleteItem": ("CONNECTIONS_TABLE",),
        "dynamodb:BatchWriteItem": ("SUBSCRIPTIONS_TABLE",),
        "apigatewaymanagementapi:PostToConnection": ("@connections",),
    },
    "get_flights": {"dynamodb:Scan": ("FLIGHTS_TABLE",)},
    "authorizer": {},
}

#: What Lambda's event source mapping calls with the stream function's role (not the
#: handler): the actions of the AWSLambdaDynamoDBExecutionRole managed policy.
STREAM_READ_ACTIONS: Final = (
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
    "dynamodb:ListStreams",
)
#: What the Lambda service writes to the function's own log group with its role.
LOG_ACTIONS: Final = ("logs:CreateLogStream", "logs:PutLogEvents")

#: The HTTP method of each @connections call, for the execute-api resource ARN.
_CONNECTION_METHODS: Final = {
    "PostToConnection": "POST",
    "GetConnection": "GET",
    "DeleteConnection": "DELETE",
}


def iam_action(call: str) -> str:
    """The IAM action a boto3 call needs: ``dynamodb:PutItem`` is itself; every
    ``@connections`` call needs ``execute-api:ManageConnections``."""
    service, operation = call.split(":", 1)
    if service == "apigatewaymanagementapi":
        return "execute-api:ManageConnections"
    return f"{service}:{operation}"


def _resource(resource: str, operation: str) -> Any:
    if resource == "@connections":
        method = _CONNECTION_METHODS[operation]
        return {
            "Fn::Sub": "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:"
            f"${{WebSocketApi}}/${{Stage}}/{method}/@connections/*"
        }
    return {"Fn::GetAtt": [TABLE_RESOURCES[resource], "Arn"]}


def policy_statements(function: str) -> list[dict[str, Any]]:
    """The IAM statements of ``function``'s role: one per call, on exactly its resources
    (empty when the handler calls nothing; logging is granted with the log group)."""
    statements = []
    for call, resources in sorted(CALLS[function].items()):
        operation = call.split(":", 1)[1]
        statements.append(
            {
                "Effect": "Allow",
                "Action": [iam_action(call)],
                "Resource": [_resource(r, operation) for r in resources],
            }
        )
    return statements
