"""The two APIs of the real stack as CloudFormation resources: the WebSocket API (routes,
integrations, route responses, the ``$connect`` authorizer, deployment and stage) and the
HTTP API that serves ``GET /flights``. Pure data; :mod:`fanoutsim.deploy.template` joins it
with the tables, bus and functions.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any, Final

from fanoutsim import stack

__all__ = [
    "ROUTE_SELECTION",
    "TWO_WAY_ROUTES",
    "deployment_id",
    "function_id",
    "http_api",
    "websocket_api",
]

#: The expression the simulator's gateway selects routes with (``{"action": ...}``).
ROUTE_SELECTION: Final = "$request.body.action"
#: Routes whose handler's ``body`` goes back to the client: on AWS that needs a route
#: response (without one, API Gateway drops the integration's answer).
TWO_WAY_ROUTES: Final = frozenset({"subscribe", "unsubscribe", "$default"})


def function_id(name: str) -> str:
    """The logical id stem of a function: ``on_connect`` -> ``OnConnect``."""
    return "".join(part.capitalize() for part in name.split("_"))


def _route_id(route_key: str) -> str:
    return function_id(route_key.lstrip("$")) + "Route"


def _lambda_uri(function: str) -> dict[str, Any]:
    return {
        "Fn::Sub": "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/"
        f"functions/${{{function_id(function)}Function.Arn}}/invocations"
    }


def _invoke_permission(function: str, source_arn: str) -> dict[str, Any]:
    return {
        "Type": "AWS::Lambda::Permission",
        "Properties": {
            "Action": "lambda:InvokeFunction",
            "FunctionName": {"Ref": f"{function_id(function)}Function"},
            "Principal": "apigateway.amazonaws.com",
            "SourceArn": {"Fn::Sub": source_arn},
        },
    }


def websocket_api(routes: Mapping[str, str], authorizer: bool) -> dict[str, Any]:
    """The WebSocket API: one integration per function, one route per route key, a route
    response on two-way routes, the REQUEST authorizer on ``$connect`` when asked, and the
    ``prod`` stage deployed after every route exists."""
    api = {"Ref": "WebSocketApi"}
    resources: dict[str, Any] = {
        "WebSocketApi": {
            "Type": "AWS::ApiGatewayV2::Api",
            "Properties": {
                "Name": {"Fn::Sub": "${AWS::StackName}-websocket"},
                "ProtocolType": "WEBSOCKET",
                "RouteSelectionExpression": ROUTE_SELECTION,
            },
        }
    }
    source = "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${WebSocketApi}/*"
    for function in sorted(set(routes.values())):
        resources[f"{function_id(function)}Integration"] = {
            "Type": "AWS::ApiGatewayV2::Integration",
            "Properties": {
                "ApiId": api,
                "IntegrationType": "AWS_PROXY",
                "IntegrationUri": _lambda_uri(function),
            },
        }
        resources[f"{function_id(function)}InvokePermission"] = _invoke_permission(function, source)
    if authorizer:
        resources["ConnectAuthorizer"] = {
            "Type": "AWS::ApiGatewayV2::Authorizer",
            "Properties": {
                "ApiId": api,
                "Name": {"Fn::Sub": "${AWS::StackName}-connect"},
                "AuthorizerType": "REQUEST",
                "AuthorizerUri": _lambda_uri("authorizer"),
                "IdentitySource": ["route.request.querystring.token"],
            },
        }
        resources["AuthorizerInvokePermission"] = _invoke_permission("authorizer", source)
    route_ids = []
    for route_key, function in sorted(routes.items()):
        route_id = _route_id(route_key)
        route_ids.append(route_id)
        properties: dict[str, Any] = {
            "ApiId": api,
            "RouteKey": route_key,
            "Target": {"Fn::Sub": f"integrations/${{{function_id(function)}Integration}}"},
            "AuthorizationType": "NONE",
        }
        if authorizer and route_key == "$connect":
            properties["AuthorizationType"] = "CUSTOM"
            properties["AuthorizerId"] = {"Ref": "ConnectAuthorizer"}
        if route_key in TWO_WAY_ROUTES:
            properties["RouteResponseSelectionExpression"] = "$default"
            resources[f"{route_id}Response"] = {
                "Type": "AWS::ApiGatewayV2::RouteResponse",
                "Properties": {
                    "ApiId": api,
                    "RouteId": {"Ref": route_id},
                    "RouteResponseKey": "$default",
                },
            }
        resources[route_id] = {"Type": "AWS::ApiGatewayV2::Route", "Properties": properties}
    deployment = deployment_id(resources)
    resources[deployment] = {
        "Type": "AWS::ApiGatewayV2::Deployment",
        "DependsOn": sorted(name for name in resources if name != "WebSocketApi"),
        "Properties": {"ApiId": api},
    }
    resources["Stage"] = {
        "Type": "AWS::ApiGatewayV2::Stage",
        "Properties": {
            "ApiId": api,
            "StageName": stack.STAGE,
            "DeploymentId": {"Ref": deployment},
        },
    }
    return resources


def deployment_id(live: Mapping[str, Any]) -> str:
    """The Deployment's logical id, carrying a digest of everything the live stage serves
    (routes, route responses, integrations, the authorizer). A Deployment is a snapshot
    taken when it is created: under a fixed id, CloudFormation updates the routes but never
    redeploys the stage, so a new authorizer or route set would not be in force."""
    digest = hashlib.sha256(json.dumps(live, sort_keys=True).encode()).hexdigest()[:12]
    return f"Deployment{digest}"


def http_api(rest_routes: Mapping[str, str]) -> dict[str, Any]:
    """The HTTP API for the REST routes (``GET /flights``), CORS open to any origin (the
    page may be served from anywhere), auto-deployed on its ``$default`` stage."""
    api = {"Ref": "HttpApi"}
    resources: dict[str, Any] = {
        "HttpApi": {
            "Type": "AWS::ApiGatewayV2::Api",
            "Properties": {
                "Name": {"Fn::Sub": "${AWS::StackName}-http"},
                "ProtocolType": "HTTP",
                "CorsConfiguration": {"AllowOrigins": ["*"], "AllowMethods": ["GET"]},
            },
        },
        "HttpStage": {
            "Type": "AWS::ApiGatewayV2::Stage",
            "Properties": {"ApiId": api, "StageName": "$default", "AutoDeploy": True},
        },
    }
    for route_key, function in sorted(rest_routes.items()):
        stem = function_id(function)
        method, path = route_key.split(" ", 1)
        resources[f"{stem}HttpIntegration"] = {
            "Type": "AWS::ApiGatewayV2::Integration",
            "Properties": {
                "ApiId": api,
                "IntegrationType": "AWS_PROXY",
                "IntegrationUri": {"Fn::GetAtt": [f"{stem}Function", "Arn"]},
                "PayloadFormatVersion": "2.0",
            },
        }
        resources[f"{stem}HttpRoute"] = {
            "Type": "AWS::ApiGatewayV2::Route",
            "Properties": {
                "ApiId": api,
                "RouteKey": route_key,
                "Target": {"Fn::Sub": f"integrations/${{{stem}HttpIntegration}}"},
            },
        }
        resources[f"{stem}InvokePermission"] = _invoke_permission(
            function,
            "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:"
            f"${{HttpApi}}/*/{method}{path}",
        )
    return resources
