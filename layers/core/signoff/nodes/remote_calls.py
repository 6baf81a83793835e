"""Calling a registered Lambda function or HTTP(S) endpoint with a JSON request (tools and
retrievers): the one place that knows Lambda's error contract and the endpoint rules."""

from __future__ import annotations

import json
from typing import Any

import httpx
from botocore.exceptions import BotoCoreError, ClientError

from signoff.errors import NodeExecutionError
from signoff.nodes.integrations import Integrations
from signoff.nodes.registry import LambdaTarget, UrlTarget

ENDPOINT_TIMEOUT = httpx.Timeout(60.0, connect=10.0)
MAX_ANSWER_BYTES = 5 * 1024 * 1024


def call(
    target: LambdaTarget | UrlTarget,
    request: dict[str, Any],
    integrations: Integrations,
    *,
    what: str,
    error: type[NodeExecutionError],
) -> Any:
    """The JSON `target` answers `request` with; `error` (naming `what`) when it fails."""
    if isinstance(target, LambdaTarget):
        return _invoke(target.function, request, integrations, what=what, error=error)
    return _post(target.url, request, integrations, what=what, error=error)


def _invoke(
    function: str,
    request: dict[str, Any],
    integrations: Integrations,
    *,
    what: str,
    error: type[NodeExecutionError],
) -> Any:
    try:
        response = integrations.aws.get("lambda").invoke(
            FunctionName=function,
            InvocationType="RequestResponse",
            Payload=json.dumps(request).encode(),
        )
        body = response["Payload"].read()
    except (ClientError, BotoCoreError) as failure:
        raise error(f"{what}: the function {function} could not be invoked: {failure}") from failure
    try:
        answer = json.loads(body) if body else None
    except ValueError as failure:
        raise error(f"{what}: the function {function} answered something other than JSON") from (
            failure
        )
    if response.get("FunctionError"):
        if isinstance(answer, dict) and "errorMessage" in answer:
            kind = answer.get("errorType") or "error"
            message = answer["errorMessage"]
            raise error(f"{what}: the function {function} failed ({kind}): {message}")
        raise error(f"{what}: the function {function} failed")
    return answer


def _post(
    url: str,
    request: dict[str, Any],
    integrations: Integrations,
    *,
    what: str,
    error: type[NodeExecutionError],
) -> Any:
    # Plain http only for a deployment's own services (those it allows private addresses for).
    if url.startswith("http://") and not integrations.guard.allow_private_network:
        raise error(f"{what}: the endpoint {url} must use https")
    try:
        with integrations.http_client(timeout=ENDPOINT_TIMEOUT) as client:
            response = client.post(url, json=request)
    except httpx.HTTPError as failure:
        raise error(f"{what}: the endpoint {url} could not be reached: {failure}") from failure
    if response.status_code >= 400:
        raise error(
            f"{what}: the endpoint {url} answered HTTP {response.status_code}: "
            f"{response.text[:500]}"
        )
    if len(response.content) > MAX_ANSWER_BYTES:
        raise error(f"{what}: the endpoint {url} answered more than {MAX_ANSWER_BYTES} bytes")
    try:
        return response.json()
    except ValueError as failure:
        raise error(f"{what}: the endpoint {url} answered something other than JSON") from (failure)
