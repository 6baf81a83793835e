"""API Gateway proxy events (REST API, `/{proxy+}`) as the gateway hands them to the api
function: for the resolver in unit tests and the stack's api function in integration tests."""

from __future__ import annotations

import json
from typing import Any


def proxy_event(
    method: str,
    path: str,
    body: Any = None,
    *,
    authorizer: dict[str, Any] | None,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    raw_body: str | None = None,
) -> dict[str, Any]:
    """An API Gateway proxy event as the gateway hands it to the api function, its authorizer's
    context given (None: no authorizer ran). `body` is sent as JSON, `raw_body` as it is."""
    sent = {"Content-Type": "application/json", **(headers or {})}
    if raw_body is None and body is not None:
        raw_body = json.dumps(body)
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": sent,
        "multiValueHeaders": {name: [value] for name, value in sent.items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": (
            {name: [value] for name, value in query.items()} if query else None
        ),
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123def4",
            "httpMethod": method,
            "path": f"/dev{path}",
            "stage": "dev",
            "requestId": "request-1",
            "resourcePath": "/{proxy+}",
            "identity": {"sourceIp": "127.0.0.1"},
            "authorizer": authorizer,
        },
        "body": raw_body,
        "isBase64Encoded": False,
    }
