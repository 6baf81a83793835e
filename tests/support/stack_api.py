"""Calling the api function of the `stack` fixture (tests/integration/conftest.py) as API Gateway
would: the whole template runs in moto, its handlers in process."""

from __future__ import annotations

import json
from typing import Any

from signoff.local.functions import active_runner
from signoff.local.provision import StackPlan


class StackApi:
    def __init__(self, plan: StackPlan) -> None:
        self._function = plan.function("ApiFunction").function_name

    def call(
        self, method: str, path: str, body: Any = None, tenant_id: str = "tenant-a"
    ) -> tuple[int, Any]:
        event = {
            "resource": "/{proxy+}",
            "path": path,
            "httpMethod": method,
            "headers": {"Content-Type": "application/json"},
            "multiValueHeaders": {"Content-Type": ["application/json"]},
            "queryStringParameters": None,
            "multiValueQueryStringParameters": None,
            "pathParameters": {"proxy": path.lstrip("/")},
            "stageVariables": None,
            "requestContext": {
                "path": f"/dev{path}",
                "stage": "dev",
                "requestId": "request-1",
                "authorizer": {"tenant_id": tenant_id, "key_id": "key_1", "role": "admin"},
            },
            "body": None if body is None else json.dumps(body),
            "isBase64Encoded": False,
        }
        runner = active_runner()
        assert runner is not None
        result = runner.invoke(self._function, event)
        assert result.error is None, result.error
        return result.payload["statusCode"], json.loads(result.payload["body"])
