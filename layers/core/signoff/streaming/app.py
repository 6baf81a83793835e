"""The streaming app: the routes that answer with Server-Sent Events, as one ASGI application.

In production it runs in the stream function under Lambda Web Adapter (template.yaml,
StreamFunction; API Gateway streams its answer); the local front mounts the same app for the same
routes. Its routes:

- POST /workflows/{workflow_id}/runs: every request goes to the api's Powertools resolver, in
  process, exactly as the api function would answer it (gate, access, validation, idempotency,
  the one error mapping). API Gateway routes by path and method, never by a body field, so this
  route cannot be split between two functions by `response_mode`; handing the request to the
  same resolver keeps one implementation of it. The resolver answers a streaming start with 202
  and the run id (what it answers anywhere a stream is impossible); here that answer becomes the
  run's event stream instead (200, text/event-stream).
- GET /runs/{run_id}/events: the gate, the principal and the access rules of every other route,
  the run looked up within the caller's tenant (another tenant's run is 404), then the run's log
  replayed from `Last-Event-ID` (header, or the `last_event_id` query parameter for EventSource)
  and followed; `continue_on_pause=true` follows a run through its pauses.
- anything else: handed to the resolver (the function answers any API route it is sent).

Routes are `StreamingRoute`s: `build_streaming_app(services, routes=[*STREAMING_ROUTES, *more])`
serves more of them (the Dify /v1 streaming routes), each built from the helpers of
`StreamingServices` (admit, resolve, error_response, sse).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.api_gateway import ResponseBuilder
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from signoff.api.access import check_access
from signoff.api.app import ApiServices, build_app
from signoff.api.errors import error_response, response_for
from signoff.api.gate import RequestGate
from signoff.api.principal import principal_from_event
from signoff.auth.principal import Principal
from signoff.errors import InvalidInput, SignoffError, Unauthorized
from signoff.settings import Settings
from signoff.store.run_events import DynamoRunEventLog, RunEventLog
from signoff.streaming.frames import PING_SECONDS, StreamError, run_frames
from signoff.streaming.lambda_web import AdapterLambdaContext, proxy_event, response_from_proxy

logger = Logger(child=True)

ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
SSE_MEDIA_TYPE = "text/event-stream"
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
LAST_EVENT_ID_HEADER = "last-event-id"
LAST_EVENT_ID_QUERY = "last_event_id"
_INTERNAL = StreamError(500, "internal_error", "an internal error occurred")
_TRUE = frozenset({"true", "1", "yes"})


@dataclass(frozen=True)
class StreamingServices:
    api: ApiServices
    resolver: APIGatewayRestResolver
    events: RunEventLog
    ping_seconds: float = PING_SECONDS
    poll_seconds: float = 0.2

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        dynamodb_client: Any = None,
        sfn_client: Any = None,
        s3_client: Any = None,
        secrets_client: Any = None,
        lambda_client: Any = None,
    ) -> StreamingServices:
        api = ApiServices.from_settings(
            settings,
            dynamodb_client=dynamodb_client,
            sfn_client=sfn_client,
            s3_client=s3_client,
            secrets_client=secrets_client,
            lambda_client=lambda_client,
        )
        events = DynamoRunEventLog(settings.require("run_events_table"), dynamodb_client)
        return cls(api=api, resolver=build_app(api), events=events)

    # -------------------------------------------------------------- what routes are built from

    async def read_event(
        self, request: Request, path_parameters: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """The request as API Gateway's proxy event (see signoff.streaming.lambda_web)."""
        body = await request.body()
        parameters = path_parameters if path_parameters is not None else request.path_params
        return proxy_event(request, body, path_parameters=parameters)

    def admit(
        self, event: Mapping[str, Any], method: str, route: str, params: Mapping[str, Any]
    ) -> Principal:
        """What the api does before a route runs: the gate (body limits, rate limits), then who
        may call `method route` (Powertools' `<param>` syntax, as signoff.api.access lists it).
        Raises the SignoffError to answer with."""
        gate = (
            self.api.security.gate
            if self.api.security is not None
            else RequestGate(max_request_bytes=10 << 20, limiter=None)
        )
        gate.check(event)
        principal = principal_from_event(event)
        if self.api.security is not None:
            check_access(principal, method, route, params, self.api.security.resources)
        if principal is None:
            raise Unauthorized("A valid API key is required: send Authorization: Bearer <key>.")
        return principal

    async def resolve(self, request: Request, event: Mapping[str, Any]) -> dict[str, Any]:
        """The api's answer to the request (its Powertools resolver, in this process)."""
        context = AdapterLambdaContext.of(request)
        return await run_in_threadpool(self.resolver.resolve, dict(event), context)

    def error_response(self, error: Exception, event: Mapping[str, Any]) -> Response:
        """The API's answer to an error, through its one mapping (signoff.api.errors), which
        shapes it Dify's way under /v1 by the request's path."""
        if isinstance(error, SignoffError):
            answer = response_for(error, path=event.get("path"))
        else:
            logger.exception("streaming request failed")
            answer = error_response(500, "internal_error", "an internal error occurred")
        built = ResponseBuilder(answer).build(APIGatewayProxyEvent(dict(event)))
        return response_from_proxy(built)

    def describe_error(self, error: Exception) -> StreamError:
        """An error met mid-stream, as the `error` event tells it (the API's mapping)."""
        if not isinstance(error, SignoffError):
            return _INTERNAL
        body = response_for(error).body
        if not isinstance(body, Mapping):
            return _INTERNAL
        return StreamError(int(body["status"]), str(body["code"]), str(body["message"]))

    def sse(
        self,
        *,
        tenant_id: str,
        run_id: str,
        after: int = 0,
        stop_on_pause: bool = True,
        task_id: str | None = None,
        headers: Mapping[str, str] | None = None,
        workflow_id: str | None = None,
    ) -> StreamingResponse:
        """The run's events after `after` as Dify's SSE (signoff.streaming.frames), each chunk
        flushed as it is produced; `workflow_id`: what the events naming a workflow call it
        (the /v1 routes: the run's version id)."""
        frames = run_frames(
            self.events,
            tenant_id=tenant_id,
            run_id=run_id,
            after=after,
            stop_on_pause=stop_on_pause,
            task_id=task_id,
            read_run=lambda: self.api.runs.get(tenant_id, run_id).run,
            describe_error=self.describe_error,
            ping_seconds=self.ping_seconds,
            poll_seconds=self.poll_seconds,
            workflow_id=workflow_id,
        )
        return StreamingResponse(
            frames, media_type=SSE_MEDIA_TYPE, headers={**SSE_HEADERS, **(headers or {})}
        )


StreamingHandler = Callable[[Request, StreamingServices], Awaitable[Response]]


@dataclass(frozen=True)
class StreamingRoute:
    """One route of the streaming app: a Starlette path (`{param}`), its methods, its handler."""

    path: str
    methods: tuple[str, ...]
    handler: StreamingHandler


# ------------------------------------------------------------------ the native routes


def wants_stream(event: Mapping[str, Any]) -> bool:
    """Whether a run request's JSON body asks for `"response_mode": "streaming"`."""
    try:
        body = json.loads(event.get("body") or "null")
    except ValueError:
        return False
    return isinstance(body, dict) and body.get("response_mode") == "streaming"


def started_run_id(answer: Mapping[str, Any], *, field: str = "run_id") -> str | None:
    """The run id of the api's 202 answer to a run start, read from `field` (Dify's answer names
    it `task_id`); None for any other answer."""
    if int(answer.get("statusCode", 0)) != 202:
        return None
    try:
        body = json.loads(answer.get("body") or "null")
    except ValueError:
        return None
    run_id = body.get(field) if isinstance(body, dict) else None
    return str(run_id) if run_id else None


async def start_run(request: Request, services: StreamingServices) -> Response:
    event = await services.read_event(request)
    answer = await services.resolve(request, event)
    run_id = started_run_id(answer) if wants_stream(event) else None
    if run_id is None:
        return response_from_proxy(answer)
    # The resolver admitted the request, so the principal is there.
    principal = principal_from_event(event)
    assert principal is not None
    replayed = {
        name: str(value)
        for name, value in (answer.get("headers") or {}).items()
        if name.lower() == "idempotent-replayed"
    }
    return services.sse(
        tenant_id=principal.tenant_id, run_id=run_id, task_id=run_id, headers=replayed
    )


def last_event_id(request: Request) -> int:
    """Where a re-attaching client resumes: the Last-Event-ID header (EventSource sends it on
    reconnect) or the last_event_id query parameter (for clients that cannot set headers)."""
    raw = request.headers.get(LAST_EVENT_ID_HEADER)
    field = "Last-Event-ID"
    if raw is None or not raw.strip():
        raw, field = request.query_params.get(LAST_EVENT_ID_QUERY), LAST_EVENT_ID_QUERY
    if raw is None or not raw.strip():
        return 0
    value = raw.strip()
    if not value.isdigit():
        raise InvalidInput(
            f"{field}: the id of the last event received (a sequence number)", field=field
        )
    return int(value)


async def run_events(request: Request, services: StreamingServices) -> Response:
    event = await services.read_event(request)
    run_id = request.path_params["run_id"]
    try:
        principal = await run_in_threadpool(
            services.admit, event, "GET", "/runs/<run_id>/events", {"run_id": run_id}
        )
        after = last_event_id(request)
        # The tenant check: another tenant's run does not exist here (404).
        await run_in_threadpool(services.api.runs.get, principal.tenant_id, run_id)
    except Exception as error:
        return services.error_response(error, event)
    go_on = request.query_params.get("continue_on_pause", "").strip().lower() in _TRUE
    return services.sse(
        tenant_id=principal.tenant_id, run_id=run_id, after=after, stop_on_pause=not go_on
    )


async def to_resolver(request: Request, services: StreamingServices) -> Response:
    event = await services.read_event(request, path_parameters={})
    return response_from_proxy(await services.resolve(request, event))


STREAMING_ROUTES: list[StreamingRoute] = [
    StreamingRoute("/workflows/{workflow_id}/runs", ("POST",), start_run),
    StreamingRoute("/runs/{run_id}/events", ("GET",), run_events),
]


def build_streaming_app(
    services: StreamingServices, routes: Sequence[StreamingRoute] = STREAMING_ROUTES
) -> Starlette:
    """The ASGI app serving `routes`, and every other request through the api's resolver."""

    def endpoint(handler: StreamingHandler) -> Callable[[Request], Awaitable[Response]]:
        async def handle(request: Request) -> Response:
            return await handler(request, services)

        return handle

    return Starlette(
        routes=[
            *(
                Route(route.path, endpoint(route.handler), methods=list(route.methods))
                for route in routes
            ),
            Route("/", endpoint(to_resolver), methods=ALL_METHODS),
            Route("/{path:path}", endpoint(to_resolver), methods=ALL_METHODS),
        ]
    )
