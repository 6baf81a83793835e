"""An HTTP request that Lambda Web Adapter handed to the streaming app, seen as API Gateway saw it.

Under Lambda Web Adapter (LWA) the function receives API Gateway's proxy event and LWA turns it
into a plain HTTP request to the app, carrying the event's `requestContext` (with the TOKEN
authorizer's context: the principal) as JSON in the `x-amzn-request-context` header and the Lambda
context in `x-amzn-lambda-context`. LWA sets these headers from the event, replacing any a client
sent; the local front does the same. So the app rebuilds the proxy event here, and everything
that reads proxy events (the request gate, the principal, the Powertools resolver) works on it
unchanged.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

REQUEST_CONTEXT_HEADER = "x-amzn-request-context"
LAMBDA_CONTEXT_HEADER = "x-amzn-lambda-context"
# Headers the adapter adds for the app: they are not the client's, so the event leaves them out.
_ADAPTER_HEADERS = frozenset({REQUEST_CONTEXT_HEADER, LAMBDA_CONTEXT_HEADER})
# A streaming function may run this long (Lambda's and API Gateway's limit for a stream).
_DEFAULT_REMAINING_MS = 15 * 60 * 1000


def request_context(request: Request) -> dict[str, Any]:
    """API Gateway's request context as the adapter forwarded it ({} when there is none)."""
    raw = request.headers.get(REQUEST_CONTEXT_HEADER)
    if not raw:
        return {}
    try:
        context = json.loads(raw)
    except ValueError:
        return {}
    return context if isinstance(context, dict) else {}


def proxy_event(
    request: Request, body: bytes, *, path_parameters: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The API Gateway (REST, v1) proxy event of `request`, whose body was read as `body`."""
    headers: dict[str, str] = {}
    multi_headers: dict[str, list[str]] = {}
    for raw_name, raw_value in request.headers.raw:
        lower = raw_name.decode("latin-1").lower()
        if lower in _ADAPTER_HEADERS:
            continue
        name = "-".join(part.capitalize() for part in lower.split("-"))
        value = raw_value.decode("latin-1")
        headers[name] = value
        multi_headers.setdefault(name, []).append(value)
    query: dict[str, str] = {}
    multi_query: dict[str, list[str]] = {}
    for name, value in request.query_params.multi_items():
        query[name] = value
        multi_query.setdefault(name, []).append(value)
    try:
        text_body: str | None = body.decode("utf-8") if body else None
        is_base64 = False
    except UnicodeDecodeError:
        text_body, is_base64 = base64.b64encode(body).decode(), True
    context = request_context(request)
    return {
        "resource": context.get("resourcePath") or request.url.path,
        "path": request.url.path,
        "httpMethod": request.method.upper(),
        "headers": headers or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": dict(path_parameters) if path_parameters else None,
        "stageVariables": None,
        "requestContext": context,
        "body": text_body,
        "isBase64Encoded": is_base64,
    }


def response_from_proxy(answer: Mapping[str, Any]) -> Response:
    """A proxy integration's answer ({statusCode, headers, multiValueHeaders, body}) as HTTP."""
    body = answer.get("body") or ""
    content = base64.b64decode(body) if answer.get("isBase64Encoded") else str(body).encode()
    response = Response(content, status_code=int(answer.get("statusCode", 200)))
    raw: list[tuple[bytes, bytes]] = []
    multi = dict(answer.get("multiValueHeaders") or {})
    for name, values in multi.items():
        for value in values:
            raw.append((name.lower().encode("latin-1"), str(value).encode("latin-1")))
    lower_multi = {name.lower() for name in multi}
    for name, value in dict(answer.get("headers") or {}).items():
        if name.lower() not in lower_multi:
            raw.append((name.lower().encode("latin-1"), str(value).encode("latin-1")))
    # The length is the one Starlette computed from the body.
    raw = [(name, value) for name, value in raw if name != b"content-length"]
    response.raw_headers = [*response.raw_headers, *raw]
    if not any(name == b"content-type" for name, _ in raw):
        response.raw_headers.append((b"content-type", b"application/json"))
    return response


class AdapterLambdaContext:
    """The Lambda context the adapter forwarded (`x-amzn-lambda-context`), with the attributes
    Powertools reads; outside Lambda (the local cloud) a context with the streaming limit."""

    def __init__(self, fields: Mapping[str, Any] | None = None) -> None:
        fields = fields or {}
        env = fields.get("env_config") if isinstance(fields.get("env_config"), Mapping) else {}
        self.aws_request_id = str(fields.get("request_id") or "")
        self.invoked_function_arn = str(fields.get("invoked_function_arn") or "")
        self.function_name = str(env.get("function_name") or "")
        self.function_version = str(env.get("version") or "$LATEST")
        self.memory_limit_in_mb = int(env.get("memory") or 0)
        self.log_group_name = str(env.get("log_group") or "")
        self.log_stream_name = str(env.get("log_stream") or "")
        deadline = fields.get("deadline")
        self._deadline_ms = (
            float(deadline)
            if isinstance(deadline, int | float)
            else time.time() * 1000 + _DEFAULT_REMAINING_MS
        )

    @classmethod
    def of(cls, request: Request) -> AdapterLambdaContext:
        raw = request.headers.get(LAMBDA_CONTEXT_HEADER)
        try:
            fields = json.loads(raw) if raw else None
        except ValueError:
            fields = None
        return cls(fields if isinstance(fields, Mapping) else None)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int(self._deadline_ms - time.time() * 1000))
