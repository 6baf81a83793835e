"""GET /runs/{run_id}/events and GET /v1/workflow/{run_id}/events as the api function answers
them: the run's events logged so far, as one text/event-stream body.

API Gateway sends these routes to the streaming function (template.yaml: StreamFunction, response
streaming), which follows the run as it goes (signoff.streaming.app, signoff.difyapi.streaming).
They are routes of the resolver too, so that the OpenAPI document it builds describes them, and
so that what it describes is what this function does should a request reach it: the same gate,
access rules and tenant lookup (another tenant's run is 404), the same frames
(signoff.streaming.frames), replayed up to now instead of followed. A client re-attaches with the
last id it got, as after any dropped stream.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Header, Path, Query

from signoff.api.models import ErrorBody
from signoff.api.principal import CurrentPrincipal
from signoff.difyapi.models import DifyError
from signoff.difyapi.service import DifyAppService
from signoff.errors import ConfigurationError, InvalidInput
from signoff.runs.service import RunService
from signoff.store.run_events import RunEventLog
from signoff.store.runs import RunRecord
from signoff.streaming.frames import replay_frames

SSE_MEDIA_TYPE = "text/event-stream"
# What proxies and browsers must not do to an event stream: keep it, or hold it back.
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
# Sequences are DynamoDB numbers; anything past JSON's exact integers is no sequence of ours.
MAX_SEQUENCE = 2**53 - 1

FRAMES_DESCRIPTION = (
    "Server-Sent Events in Dify's format: one `data: {json}` frame per event "
    "(workflow_started, node_started, node_finished, node_retry, iteration_*, loop_*, "
    "human_input_required, workflow_paused, human_input_form_filled, workflow_finished; "
    "`error` with the API's status, code and message when the stream fails), each with "
    "`id: <sequence>` to resume from; `event: ping` keeps an idle stream open. The stream ends "
    "after workflow_finished, after workflow_paused (unless continue_on_pause) or after an "
    "error. Where the API cannot stream, the body is the events logged so far."
)
_STREAM = {SSE_MEDIA_TYPE: {"schema": {"type": "string", "description": FRAMES_DESCRIPTION}}}

_DIFY_ERROR = {"application/json": {"model": DifyError}}
# Errors under /v1 answer in Dify's shape, as the other /v1 routes document them.
_DIFY_ERRORS: dict[int, Any] = {
    400: {"description": "invalid_param", "content": _DIFY_ERROR},
    401: {"description": "unauthorized", "content": _DIFY_ERROR},
    404: {"description": "not_found", "content": _DIFY_ERROR},
    429: {"description": "too_many_requests", "content": _DIFY_ERROR},
}

LastEventIdHeader = Annotated[
    int | None,
    Header(
        alias="Last-Event-ID",
        ge=0,
        le=MAX_SEQUENCE,
        description="The id of the last event received: the stream resumes after it "
        "(EventSource sends it when it reconnects).",
    ),
]
LastEventIdQuery = Annotated[
    int | None,
    Query(
        ge=0,
        le=MAX_SEQUENCE,
        description="Last-Event-ID for clients that cannot set headers (the header wins).",
    ),
]
ContinueOnPause = Annotated[
    bool,
    Query(description="Follow the run through its pauses instead of ending at workflow_paused."),
]


def event_replay_router(
    runs: RunService, log: RunEventLog | None, dify: DifyAppService | None = None
) -> Router:
    router = Router()

    def replay(
        tenant_id: str,
        run_id: str,
        after: int,
        continue_on_pause: bool,
        read_run: Callable[[], RunRecord],
        workflow_id: str | None = None,
    ) -> Response[str]:
        if log is None:
            raise ConfigurationError("this deployment keeps no run event log")
        body = b"".join(
            replay_frames(
                log,
                tenant_id=tenant_id,
                run_id=run_id,
                after=after,
                stop_on_pause=not continue_on_pause,
                read_run=read_run,
                workflow_id=workflow_id,
            )
        )
        return Response(
            status_code=200,
            content_type=SSE_MEDIA_TYPE,
            body=body.decode("utf-8"),
            headers=SSE_HEADERS,
        )

    @router.get(
        "/runs/<run_id>/events",
        summary="Follow a run's events (Server-Sent Events)",
        description="The run's lifecycle as Server-Sent Events, from the start or after "
        "Last-Event-ID, until the run ends or pauses.",
        tags=["runs", "events"],
        responses={
            200: {"description": "The run's events", "content": _STREAM},
            404: {
                "description": "No such run (in this tenant)",
                "content": {"application/json": {"model": ErrorBody}},
            },
        },
    )
    def run_events(
        principal: CurrentPrincipal,
        run_id: Annotated[str, Path()],
        last_event_id_header: LastEventIdHeader = None,
        last_event_id: LastEventIdQuery = None,
        continue_on_pause: ContinueOnPause = False,
    ) -> Response[str]:
        tenant_id = principal.tenant_id
        # The tenant check: another tenant's run does not exist here (404).
        runs.get(tenant_id, run_id)
        return replay(
            tenant_id,
            run_id,
            _after(last_event_id_header, last_event_id),
            continue_on_pause,
            lambda: runs.get(tenant_id, run_id).run,
        )

    @router.get(
        "/v1/workflow/<run_id>/events",
        summary="Re-attach to a run's events (Dify)",
        description="A run of the app's workflow as Server-Sent Events, from the start or after "
        "Last-Event-ID, until it ends or pauses.",
        tags=["dify"],
        responses={
            200: {"description": "The run's events", "content": _STREAM},
            **_DIFY_ERRORS,
        },
    )
    def dify_run_events(
        principal: CurrentPrincipal,
        run_id: Annotated[str, Path()],
        last_event_id_header: LastEventIdHeader = None,
        last_event_id: LastEventIdQuery = None,
        continue_on_pause: ContinueOnPause = False,
    ) -> Response[str]:
        if dify is None:
            raise InvalidInput("this deployment serves no Dify apps")
        run = dify.app_run(principal, run_id)
        tenant_id = principal.tenant_id
        return replay(
            tenant_id,
            run_id,
            _after(last_event_id_header, last_event_id),
            continue_on_pause,
            lambda: dify.app_run(principal, run_id),
            # Dify's workflow id of a run is its version's.
            workflow_id=dify.workflow_id_of(run),
        )

    return router


def _after(header: int | None, query: int | None) -> int:
    """Where the replay starts: the Last-Event-ID header, else the query parameter, else 0."""
    if header is not None:
        return header
    return query or 0
