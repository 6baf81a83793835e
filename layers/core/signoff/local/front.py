"""The HTTP front: what API Gateway (REST, Lambda proxy) does for the template's API, locally.

Routes come from the functions' `Api` events; a route that needs auth runs the TOKEN authorizer
function first; the request becomes an API Gateway v1 proxy event for the api function, and its
proxy response becomes the HTTP response. Errors the gateway itself answers use the template's
GatewayResponses, rendered as API Gateway renders them. The API is served at the root path, the
web console's built files at /console (signoff.local.console).
"""

from __future__ import annotations

import base64
import json
import logging
import re
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from signoff.local.console import ConsoleFiles, default_console_directory
from signoff.local.functions import FunctionRunner
from signoff.local.provision import ApiRoute, ApiSpec, StackPlan
from signoff.local.template import ACCOUNT_ID, REGION

logger = logging.getLogger(__name__)

ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

# API Gateway's own answers: response type -> (status, default message).
_GATEWAY_DEFAULTS: dict[str, tuple[int, str | None]] = {
    "MISSING_AUTHENTICATION_TOKEN": (403, "Missing Authentication Token"),
    "UNAUTHORIZED": (401, "Unauthorized"),
    "ACCESS_DENIED": (403, "User is not authorized to access this resource"),
    "AUTHORIZER_FAILURE": (500, None),
    "AUTHORIZER_CONFIGURATION_ERROR": (500, None),
    "BAD_REQUEST_BODY": (400, "Invalid request body"),
    "INTEGRATION_FAILURE": (502, "Internal server error"),
    "REQUEST_TOO_LARGE": (413, "Request Too Long"),
}
# API Gateway's payload limit for REST APIs: a larger request never reaches the authorizer.
PAYLOAD_LIMIT_BYTES = 10 * 1024 * 1024
_CONTEXT_VARIABLE = re.compile(r"\$context\.([A-Za-z0-9_.]+)")


# ------------------------------------------------------------------ routing


@dataclass(frozen=True)
class RouteMatch:
    resource: str
    route: ApiRoute
    path_parameters: dict[str, str]


def _segment_rank(segment: str) -> int:
    if segment.startswith("{") and segment.endswith("+}"):
        return 0
    if segment.startswith("{") and segment.endswith("}"):
        return 1
    return 2


def _match_resource(resource: str, path: str) -> dict[str, str] | None:
    """The path parameters when `path` is an instance of the resource path, else None."""
    pattern = [part for part in resource.strip("/").split("/") if part]
    parts = [part for part in path.strip("/").split("/") if part]
    parameters: dict[str, str] = {}
    for index, segment in enumerate(pattern):
        rank = _segment_rank(segment)
        if rank == 0:
            rest = parts[index:]
            if not rest:
                return None  # a greedy parameter needs at least one segment
            parameters[segment[1:-2]] = "/".join(rest)
            return parameters
        if index >= len(parts):
            return None
        if rank == 1:
            parameters[segment[1:-1]] = parts[index]
        elif segment != parts[index]:
            return None
    return parameters if len(parts) == len(pattern) else None


def match_route(api: ApiSpec, method: str, path: str) -> RouteMatch | None:
    """API Gateway's choice: the most specific resource first, then its method (or ANY)."""
    candidates: list[tuple[tuple[int, ...], str, dict[str, str]]] = []
    for resource in {route.path for route in api.routes}:
        parameters = _match_resource(resource, path)
        if parameters is not None:
            ranks = tuple(_segment_rank(part) for part in resource.strip("/").split("/") if part)
            candidates.append((ranks, resource, parameters))
    if not candidates:
        return None
    # Literal segments beat parameters, parameters beat greedy ones, left to right.
    _, resource, parameters = max(candidates, key=lambda candidate: candidate[0])
    routes = [route for route in api.routes if route.path == resource]
    for wanted in (method.upper(), "ANY"):
        for route in routes:
            if route.method == wanted:
                return RouteMatch(resource, route, parameters)
    return None


# ------------------------------------------------------------------ gateway responses


def _render_template(template: str, context: Mapping[str, Any]) -> str:
    def replace(match: re.Match[str]) -> str:
        value = context.get(match.group(1))
        return "" if value is None else str(value)

    return _CONTEXT_VARIABLE.sub(replace, template)


def gateway_response(
    api: ApiSpec, response_type: str, request_id: str, message: str | None = None
) -> Response:
    """API Gateway's answer of `response_type`, customised by the template's GatewayResponses."""
    status, default_message = _GATEWAY_DEFAULTS[response_type]
    message = message if message is not None else default_message
    family = "DEFAULT_4XX" if status < 500 else "DEFAULT_5XX"
    custom = api.gateway_responses.get(response_type) or api.gateway_responses.get(family)
    headers = {"x-amzn-RequestId": request_id, "x-amzn-ErrorType": _error_type(response_type)}
    if custom is None or not custom.templates:
        body = json.dumps({"message": message})
    else:
        template = custom.templates.get("application/json") or next(iter(custom.templates.values()))
        body = _render_template(
            template,
            {
                "error.message": message,
                # As API Gateway defines it: the message already in double quotes.
                "error.messageString": json.dumps(message),
                "error.responseType": response_type,
                "requestId": request_id,
                "apiId": api.rest_api_id,
                "stage": api.stage,
            },
        )
    if custom is not None:
        status = custom.status_code or status
        for name, value in custom.headers.items():
            headers[name] = str(value).strip("'")
    return Response(body, status_code=status, headers=headers, media_type="application/json")


def _error_type(response_type: str) -> str:
    return {
        "UNAUTHORIZED": "UnauthorizedException",
        "ACCESS_DENIED": "AccessDeniedException",
        "MISSING_AUTHENTICATION_TOKEN": "MissingAuthenticationTokenException",
        "AUTHORIZER_FAILURE": "AuthorizerFailureException",
        "AUTHORIZER_CONFIGURATION_ERROR": "AuthorizerConfigurationException",
    }.get(response_type, "InternalServerErrorException")


# ------------------------------------------------------------------ the authorizer


class _Denied(Exception):
    def __init__(self, response_type: str, message: str | None = None) -> None:
        super().__init__(response_type)
        self.response_type = response_type
        self.message = message


def _arn_pattern(resource: str) -> re.Pattern[str]:
    return re.compile(
        "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in resource)
    )


def _policy_allows(policy: Any, method_arn: str) -> bool:
    """IAM evaluation for execute-api: an explicit Deny wins, then an Allow must match."""
    statements = policy.get("Statement") if isinstance(policy, Mapping) else None
    if isinstance(statements, Mapping):
        statements = [statements]
    if not isinstance(statements, list):
        raise _Denied("AUTHORIZER_CONFIGURATION_ERROR")
    allowed = False
    for statement in statements:
        actions = statement.get("Action", [])
        resources = statement.get("Resource", [])
        actions = [actions] if isinstance(actions, str) else actions
        resources = [resources] if isinstance(resources, str) else resources
        if not any(_arn_pattern(action).fullmatch("execute-api:Invoke") for action in actions):
            continue
        if not any(_arn_pattern(resource).fullmatch(method_arn) for resource in resources):
            continue
        if statement.get("Effect") == "Deny":
            return False
        if statement.get("Effect") == "Allow":
            allowed = True
    return allowed


def _authorizer_context(result: Mapping[str, Any]) -> dict[str, Any]:
    context = result.get("context") or {}
    if not isinstance(context, Mapping):
        raise _Denied("AUTHORIZER_CONFIGURATION_ERROR")
    flattened: dict[str, Any] = {}
    for key, value in context.items():
        if isinstance(value, Mapping | list):
            # API Gateway rejects nested values in an authorizer's context.
            raise _Denied("AUTHORIZER_CONFIGURATION_ERROR")
        flattened[key] = (
            ("true" if value else "false")
            if isinstance(value, bool)
            else ""
            if value is None
            else str(value)
        )
    flattened["principalId"] = str(result.get("principalId", ""))
    return flattened


# ------------------------------------------------------------------ the front


class Front:
    """The gateway for one provisioned stack; `app` is the ASGI application."""

    def __init__(
        self, plan: StackPlan, runner: FunctionRunner, console_directory: Path | None = None
    ) -> None:
        self.plan = plan
        self.api = plan.api()
        self.runner = runner
        # The web console (the static site CloudFront serves in a deployment) at /console.
        self.console = ConsoleFiles(
            console_directory or default_console_directory(plan.template_path.parent)
        )
        self.app = Starlette(
            routes=[
                *self.console.routes(),
                Route("/", self.handle, methods=ALL_METHODS),
                Route("/{path:path}", self.handle, methods=ALL_METHODS),
            ]
        )
        # Paths Starlette's patterns do not match (a newline in a segment) reach the gateway too,
        # as they reach API Gateway's {proxy+}: the answer is the API's, never Starlette's.
        self.app.router.default = self._unrouted

    async def _unrouted(self, scope: Any, receive: Any, send: Any) -> None:
        response = await self.handle(Request(scope, receive))
        await response(scope, receive, send)

    async def handle(self, request: Request) -> Response:
        started = time.monotonic()
        response = await self._handle(request)
        logger.info(
            "%s %s -> %s (%d ms)",
            request.method,
            request.url.path,
            response.status_code,
            (time.monotonic() - started) * 1000,
        )
        return response

    async def _handle(self, request: Request) -> Response:
        request_id = str(uuid.uuid4())
        path = request.url.path
        match = match_route(self.api, request.method, path)
        if match is None:
            return gateway_response(self.api, "MISSING_AUTHENTICATION_TOKEN", request_id)
        method_arn = (
            f"arn:aws:execute-api:{REGION}:{ACCOUNT_ID}:{self.api.rest_api_id}/{self.api.stage}/"
            f"{request.method.upper()}/{path.lstrip('/')}"
        )
        body = await _read_body(request, PAYLOAD_LIMIT_BYTES)
        if body is None:
            return gateway_response(self.api, "REQUEST_TOO_LARGE", request_id)
        authorizer_context: dict[str, Any] | None = None
        if match.route.authorizer is not None:
            try:
                authorizer_context = await run_in_threadpool(
                    self._authorize, match.route.authorizer, request, method_arn
                )
            except _Denied as denied:
                return gateway_response(self.api, denied.response_type, request_id, denied.message)

        function = self.plan.functions[match.route.function_logical_id]
        if match.route.streaming:
            # A streaming route's function runs under Lambda Web Adapter: its ASGI app gets the
            # request as the adapter forwards it, and its answer goes out as it is written.
            context = self._request_context(request, match, request_id, authorizer_context)
            web_app = await run_in_threadpool(self.runner.web_app, function.function_name)
            return WebAppResponse(web_app, context, body)
        event = self._proxy_event(request, match, body, request_id, authorizer_context)
        result = await run_in_threadpool(self.runner.invoke, function.function_name, event)
        if result.failed:
            logger.error(
                "%s failed: %s", function.logical_id, (result.error or {}).get("errorMessage")
            )
            return gateway_response(self.api, "INTEGRATION_FAILURE", request_id)
        try:
            return self._http_response(result.payload, request_id)
        except (TypeError, ValueError, KeyError) as exc:
            logger.error("%s answered a malformed proxy response: %s", function.logical_id, exc)
            return gateway_response(self.api, "INTEGRATION_FAILURE", request_id)

    def _authorize(self, name: str, request: Request, method_arn: str) -> dict[str, Any]:
        authorizer = self.api.authorizers[name]
        token = request.headers.get(authorizer.header)
        if not token:
            # API Gateway answers without calling the authorizer when the identity is missing.
            raise _Denied("UNAUTHORIZED")
        function = self.plan.functions[authorizer.function_logical_id]
        event = {"type": "TOKEN", "authorizationToken": token, "methodArn": method_arn}
        result = self.runner.invoke(function.function_name, event)
        if result.failed:
            message = (result.error or {}).get("errorMessage")
            # Only an error whose message is exactly "Unauthorized" means 401; anything else is
            # the authorizer failing (500), as API Gateway treats it.
            if message == "Unauthorized":
                raise _Denied("UNAUTHORIZED")
            logger.error("authorizer %s failed: %s", name, result.error)
            raise _Denied("AUTHORIZER_FAILURE")
        payload = result.payload
        if not isinstance(payload, Mapping) or "policyDocument" not in payload:
            raise _Denied("AUTHORIZER_CONFIGURATION_ERROR")
        if not _policy_allows(payload["policyDocument"], method_arn):
            raise _Denied("ACCESS_DENIED")
        return _authorizer_context(payload)

    def _proxy_event(
        self,
        request: Request,
        match: RouteMatch,
        body: bytes,
        request_id: str,
        authorizer_context: dict[str, Any] | None,
    ) -> dict[str, Any]:
        headers: dict[str, str] = {}
        multi_headers: dict[str, list[str]] = {}
        for raw_name, raw_value in request.headers.raw:
            name = "-".join(part.capitalize() for part in raw_name.decode("latin-1").split("-"))
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
        if body and _is_binary_media(request.headers.get("content-type"), self.api):
            # As API Gateway does for the API's BinaryMediaTypes: the bytes, base64-encoded.
            text_body, is_base64 = base64.b64encode(body).decode(), True
        request_context = self._request_context(request, match, request_id, authorizer_context)
        return {
            "resource": match.resource,
            "path": request.url.path,
            "httpMethod": request.method.upper(),
            "headers": headers or None,
            "multiValueHeaders": multi_headers or None,
            "queryStringParameters": query or None,
            "multiValueQueryStringParameters": multi_query or None,
            "pathParameters": match.path_parameters or None,
            "stageVariables": None,
            "requestContext": request_context,
            "body": text_body,
            "isBase64Encoded": is_base64,
        }

    def _request_context(
        self,
        request: Request,
        match: RouteMatch,
        request_id: str,
        authorizer_context: dict[str, Any] | None,
    ) -> dict[str, Any]:
        now = time.time()
        request_context: dict[str, Any] = {
            "accountId": ACCOUNT_ID,
            "apiId": self.api.rest_api_id,
            "resourceId": match.resource,
            "resourcePath": match.resource,
            "httpMethod": request.method.upper(),
            "path": f"/{self.api.stage}{request.url.path}",
            "stage": self.api.stage,
            "protocol": f"HTTP/{request.scope.get('http_version', '1.1')}",
            "domainName": request.headers.get("host", ""),
            "requestId": request_id,
            "extendedRequestId": request_id,
            "requestTime": datetime.fromtimestamp(now, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "requestTimeEpoch": int(now * 1000),
            "identity": {
                "sourceIp": request.client.host if request.client else "127.0.0.1",
                "userAgent": request.headers.get("user-agent"),
            },
        }
        if authorizer_context is not None:
            request_context["authorizer"] = authorizer_context
        return request_context

    @staticmethod
    def _http_response(payload: Any, request_id: str) -> Response:
        if not isinstance(payload, Mapping):
            raise TypeError("the proxy response is not an object")
        status = int(payload.get("statusCode", 200))
        body = payload.get("body") or ""
        if not isinstance(body, str):
            raise TypeError("the proxy response body is not a string")
        content = base64.b64decode(body) if payload.get("isBase64Encoded") else body.encode()
        response = Response(content, status_code=status)
        raw = [(b"x-amzn-requestid", request_id.encode())]
        single = dict(payload.get("headers") or {})
        multi = dict(payload.get("multiValueHeaders") or {})
        for name, values in multi.items():
            for value in values:
                raw.append((name.lower().encode("latin-1"), str(value).encode("latin-1")))
        lower_multi = {name.lower() for name in multi}
        for name, value in single.items():
            if name.lower() not in lower_multi:
                raw.append((name.lower().encode("latin-1"), str(value).encode("latin-1")))
        # Starlette computed content-length from the body; the handler's own would disagree.
        raw = [(name, value) for name, value in raw if name != b"content-length"]
        response.raw_headers = [*response.raw_headers, *raw]
        if not any(name == b"content-type" for name, _ in raw):
            response.raw_headers.append((b"content-type", b"application/json"))
        return response


def _is_binary_media(content_type: str | None, api: ApiSpec) -> bool:
    """Whether a request body of this type is one of the API's BinaryMediaTypes (`~1` is `/`)."""
    if not content_type:
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    for listed in api.binary_media_types:
        pattern = listed.replace("~1", "/").lower()
        if pattern == media or pattern == "*/*":
            return True
        if pattern.endswith("/*") and media.startswith(pattern[:-1]):
            return True
    return False


class WebAppResponse(Response):
    """The answer of a Lambda Web Adapter function's ASGI app, sent as the app writes it.

    As the adapter does, the app gets the request with API Gateway's request context (the
    authorizer's answer included) as JSON in `x-amzn-request-context`, replacing any such header
    the client sent; the body the front already read is handed over first, and the client's
    disconnect after it, so the app stops streaming when the client leaves."""

    def __init__(self, app: Any, request_context: Mapping[str, Any], body: bytes) -> None:
        super().__init__(status_code=200)
        self._app = app
        self._context = json.dumps(request_context).encode()
        self._body = body

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        headers = [
            (name, value)
            for name, value in scope.get("headers", [])
            if name.lower() not in (b"x-amzn-request-context", b"x-amzn-lambda-context")
        ]
        headers.append((b"x-amzn-request-context", self._context))
        body_sent = False

        async def receive_body() -> Any:
            nonlocal body_sent
            if not body_sent:
                body_sent = True
                return {"type": "http.request", "body": self._body, "more_body": False}
            return await receive()

        await self._app({**scope, "headers": headers}, receive_body, send)


async def _read_body(request: Request, limit: int) -> bytes | None:
    """The request body, or None when it is larger than `limit` (read no further than that)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def create_app(plan: StackPlan, runner: FunctionRunner) -> Starlette:
    return Front(plan, runner).app
