"""Calling the api function of the `stack` fixture (tests/integration/conftest.py) as API Gateway
would: the whole template runs in moto, its handlers in process."""

from __future__ import annotations

import json
from typing import Any

from signoff.local.functions import active_runner
from signoff.local.provision import StackPlan
from tests.support.api_gateway import proxy_event
from tests.support.review_machines import wait_for

TENANT = "tenant-a"
# A run in one of these statuses may still move; any other status is final.
_MOVING_STATUSES = ("pending", "running", "paused")


class StackApi:
    """The stack's api function. Every call is made as an admin key of `tenant_id` (`key_id`)
    unless it names another tenant, key or a whole `principal` (the authorizer's context)."""

    def __init__(self, plan: StackPlan, *, key_id: str = "key_1") -> None:
        self._function = plan.function("ApiFunction").function_name
        self._key_id = key_id

    def invoke(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        tenant_id: str = TENANT,
        key_id: str | None = None,
        principal: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        query: dict[str, str] | None = None,
        raw_body: str | None = None,
    ) -> dict[str, Any]:
        """The api function's answer as API Gateway receives it."""
        authorizer = principal or {
            "tenant_id": tenant_id,
            "key_id": key_id or self._key_id,
            "role": "admin",
        }
        event = proxy_event(
            method,
            path,
            body,
            authorizer=authorizer,
            headers=headers,
            query=query,
            raw_body=raw_body,
        )
        runner = active_runner()
        assert runner is not None
        result = runner.invoke(self._function, event)
        assert result.error is None, result.error
        return result.payload

    def request(
        self, method: str, path: str, body: Any = None, **options: Any
    ) -> tuple[int, Any, dict[str, str]]:
        """The status, the JSON body (None when empty) and the headers of an answer."""
        answer = self.invoke(method, path, body, **options)
        headers = {
            name: values[-1] for name, values in (answer.get("multiValueHeaders") or {}).items()
        } | (answer.get("headers") or {})
        text = answer.get("body")
        return answer["statusCode"], json.loads(text) if text else None, headers

    def call(self, method: str, path: str, body: Any = None, **options: Any) -> tuple[int, Any]:
        status, answer, _ = self.request(method, path, body, **options)
        return status, answer

    def run(self, run_id: str, **options: Any) -> dict[str, Any]:
        """GET /runs/{run_id}, which must answer 200."""
        status, body = self.call("GET", f"/runs/{run_id}", **options)
        assert status == 200, body
        return body

    def finished(self, run_id: str, *, timeout: float = 30, **options: Any) -> dict[str, Any]:
        """The run once its status is final (the execution runs on its own threads)."""

        def ended() -> dict[str, Any] | None:
            run = self.run(run_id, **options)
            return run if run["status"] not in _MOVING_STATUSES else None

        return wait_for(ended, timeout=timeout)
