"""The streaming routes of the Dify and Agno APIs, served by the streaming app
(signoff.streaming.app) beside the native ones: `DIFY_STREAMING_ROUTES`.

- POST /v1/workflows/run and POST /v1/workflows/{workflow_id}/run: every request goes to the
  api's resolver (the one implementation of the route); a streaming start comes back as 202 with
  the task id, which becomes the run's events in Dify's SSE format here.
- GET /v1/workflow/{run_id}/events: re-attach to a run of the app (Last-Event-ID or
  last_event_id, continue_on_pause).
- POST /workflows/{workflow_id}/runs: Agno's multipart form (message, stream, session_id,
  user_id) starts a run answered in Agno's shapes (JSON, or `event: <Name>` + `data:` frames);
  any other body is the native route (signoff.streaming.app.start_run).
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from signoff.api.principal import principal_from_event
from signoff.difyapi.agno import AgnoRun, AgnoRunForm, agno_status, content_of
from signoff.difyapi.forms import InvalidForm, parse_multipart
from signoff.difyapi.shapes import unix_seconds
from signoff.errors import InvalidInput, SignoffError
from signoff.events.envelope import Event
from signoff.events.stream import PAUSED, follow_run
from signoff.store.run_events import RunEventLog
from signoff.store.runs import RunRecord, RunStatus
from signoff.streaming.app import (
    SSE_HEADERS,
    SSE_MEDIA_TYPE,
    StreamingRoute,
    StreamingServices,
    last_event_id,
    start_run,
    started_run_id,
    wants_stream,
)
from signoff.streaming.lambda_web import response_from_proxy

_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})
AGNO_KEEPALIVE = b": ping\n\n"


# ------------------------------------------------------------------ Dify /v1


async def dify_run(request: Request, services: StreamingServices) -> Response:
    event = await services.read_event(request)
    answer = await services.resolve(request, event)
    task_id = started_run_id(answer, field="task_id") if wants_stream(event) else None
    if task_id is None:
        return response_from_proxy(answer)
    principal = principal_from_event(event)
    assert principal is not None  # the resolver admitted the request
    workflow_id = None
    if services.api.dify is not None:
        dify = services.api.dify
        run = await run_in_threadpool(dify.app_run, principal, task_id)
        workflow_id = await run_in_threadpool(dify.workflow_id_of, run)
    return services.sse(
        tenant_id=principal.tenant_id, run_id=task_id, task_id=task_id, workflow_id=workflow_id
    )


async def dify_run_events(request: Request, services: StreamingServices) -> Response:
    event = await services.read_event(request)
    run_id = request.path_params["run_id"]
    dify = services.api.dify
    try:
        principal = await run_in_threadpool(
            services.admit, event, "GET", "/v1/workflow/<run_id>/events", {"run_id": run_id}
        )
        if dify is None:
            raise InvalidInput("this deployment serves no Dify apps")
        after = last_event_id(request)
        run = await run_in_threadpool(dify.app_run, principal, run_id)
        workflow_id = await run_in_threadpool(dify.workflow_id_of, run)
    except Exception as error:
        return services.error_response(error, event)
    go_on = request.query_params.get("continue_on_pause", "").strip().lower() in _TRUE
    return services.sse(
        tenant_id=principal.tenant_id,
        run_id=run_id,
        after=after,
        stop_on_pause=not go_on,
        task_id=run_id,
        workflow_id=workflow_id,
    )


# ------------------------------------------------------------------ Agno


def _is_multipart(request: Request) -> bool:
    media = (request.headers.get("content-type") or "").split(";", 1)[0].strip().lower()
    return media == "multipart/form-data"


def agno_form(event: Mapping[str, Any]) -> AgnoRunForm:
    """Agno's run form from a multipart request (stream defaults to true)."""
    fields = parse_multipart(event).fields
    data: dict[str, Any] = {
        name: fields[name] for name in ("message", "session_id", "user_id") if fields.get(name)
    }
    stream = fields.get("stream", "").strip().lower()
    if stream:
        if stream not in _TRUE | _FALSE:
            raise InvalidForm("stream: true or false", field="stream")
        data["stream"] = stream in _TRUE
    try:
        return AgnoRunForm.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first.get("loc", ())) or None
        raise InvalidForm(f"{field}: {first.get('msg')}", field=field) from error


async def start_workflow_run(request: Request, services: StreamingServices) -> Response:
    """POST /workflows/{workflow_id}/runs: Agno's form, or the native route."""
    if not _is_multipart(request):
        return await start_run(request, services)
    event = await services.read_event(request)
    workflow_id = request.path_params["workflow_id"]
    agno = services.api.agno
    try:
        principal = await run_in_threadpool(
            services.admit,
            event,
            "POST",
            "/workflows/<workflow_id>/runs",
            {"workflow_id": workflow_id},
        )
        if agno is None:
            raise InvalidInput("this deployment serves no Agno runs")
        form = agno_form(event)
        started = await run_in_threadpool(agno.start, principal.tenant_id, workflow_id, form)
        if not form.stream:
            output = await run_in_threadpool(agno.output, principal.tenant_id, started)
            return JSONResponse(output)
    except Exception as error:
        return services.error_response(error, event)
    tenant_id = principal.tenant_id
    frames = agno_frames(
        services.events,
        tenant_id=tenant_id,
        agno_run=started,
        read_run=lambda: services.api.runs.get(tenant_id, started.run.run_id).run,
        ping_seconds=services.ping_seconds,
        poll_seconds=services.poll_seconds,
    )
    return StreamingResponse(frames, media_type=SSE_MEDIA_TYPE, headers=SSE_HEADERS)


def agno_frame(name: str, data: Mapping[str, Any]) -> bytes:
    """One event of Agno's stream: `event: <Name>` then `data: <json>`."""
    body = json.dumps({"event": name, **data}, ensure_ascii=False, separators=(",", ":"))
    return f"event: {name}\ndata: {body}\n\n".encode()


def agno_events(event: Event, agno_run: AgnoRun) -> list[tuple[str, dict[str, Any]]]:
    """Agno's events for one lifecycle event (none for those Agno has no name for)."""
    data = event.data
    base = {
        "run_id": agno_run.run.run_id,
        "session_id": agno_run.session_id,
        "workflow_id": agno_run.run.workflow_id,
        "workflow_name": agno_run.workflow_name,
        "created_at": unix_seconds(event.time),
    }
    step = {
        "step_id": event.node_id,
        "step_name": data.get("title") or event.node_id,
        "step_type": data.get("node_type"),
    }
    kind = event.type
    if kind == "run.started":
        return [("RunStarted", {**base, "input": agno_run.message})]
    if kind == "node.started":
        return [("StepStarted", {**base, **step})]
    if kind in ("node.succeeded", "node.exception"):
        content = content_of(data.get("outputs"))
        return [("StepCompleted", {**base, **step, "content": content, "success": True})]
    if kind == "node.failed":
        return [("StepError", {**base, **step, "error": data.get("error"), "success": False})]
    if kind in ("run.succeeded", "run.partial_succeeded"):
        return [
            (
                "WorkflowCompleted",
                {
                    **base,
                    "content": content_of(data.get("outputs")),
                    "status": agno_status(RunStatus.SUCCEEDED),
                    "metrics": {
                        "duration": data.get("elapsed_time"),
                        "total_tokens": data.get("total_tokens"),
                    },
                },
            )
        ]
    if kind == "run.failed":
        error = data.get("error") or {}
        message = error.get("message") if isinstance(error, dict) else str(error)
        return [("WorkflowError", {**base, "error": message, "status": "ERROR"})]
    if kind == "run.stopped":
        return [("WorkflowCancelled", {**base, "reason": "cancelled", "status": "CANCELLED"})]
    if kind == PAUSED:
        return [("StepPaused", {**base, "step_id": data.get("node_id"), "status": "PAUSED"})]
    return []


_END_OF_STATUS = {
    RunStatus.SUCCEEDED: "run.succeeded",
    RunStatus.PARTIAL_SUCCEEDED: "run.partial_succeeded",
    RunStatus.FAILED: "run.failed",
    RunStatus.STOPPED: "run.stopped",
}


def agno_frames(
    log: RunEventLog,
    *,
    tenant_id: str,
    agno_run: AgnoRun,
    read_run: Callable[[], RunRecord],
    on_end: Callable[[], None] | None = None,
    ping_seconds: float = 10.0,
    poll_seconds: float = 0.2,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[bytes]:
    """The run's Agno stream: its events until it ends or pauses; a comment line keeps an idle
    connection open. When the log lacks the run's end, the record's end is sent."""
    last_sent = clock()
    ended = False

    def run_ended() -> bool:
        status = read_run().status
        return status.is_terminal or status == RunStatus.PAUSED

    try:
        for event in follow_run(
            log,
            tenant_id=tenant_id,
            run_id=agno_run.run.run_id,
            poll_seconds=poll_seconds,
            clock=clock,
            sleep=sleep,
            run_ended=run_ended,
        ):
            if event is None:
                if clock() - last_sent >= ping_seconds:
                    last_sent = clock()
                    yield AGNO_KEEPALIVE
                continue
            ended = event.is_terminal or event.type == PAUSED
            frames = agno_events(event, agno_run)
            if frames:
                last_sent = clock()
                yield b"".join(agno_frame(name, data) for name, data in frames)
        if not ended:
            yield from _record_end(read_run(), agno_run)
    except Exception as error:
        message = error.message if isinstance(error, SignoffError) else "an internal error occurred"
        yield agno_frame("WorkflowError", {"run_id": agno_run.run.run_id, "error": message})
    finally:
        if on_end is not None:
            # A failure leaves the session as it was: its next run folds this one in.
            with contextlib.suppress(Exception):
                on_end()


def _record_end(run: RunRecord, agno_run: AgnoRun) -> Iterator[bytes]:
    kind = _END_OF_STATUS.get(run.status)
    if kind is None:
        return
    event = Event(
        id="evt_" + "0" * 32,
        type=kind,  # type: ignore[arg-type]
        time=run.finished_at or run.created_at,
        tenant=run.tenant_id,
        workflow_id=run.workflow_id,
        run_id=run.run_id,
        sequence=1,
        data={"outputs": run.outputs or {}, "error": run.error, "total_tokens": run.total_tokens},
    )
    for name, data in agno_events(event, agno_run):
        yield agno_frame(name, data)


DIFY_STREAMING_ROUTES: list[StreamingRoute] = [
    StreamingRoute("/v1/workflows/run", ("POST",), dify_run),
    StreamingRoute("/v1/workflows/{workflow_id}/run", ("POST",), dify_run),
    StreamingRoute("/v1/workflow/{run_id}/events", ("GET",), dify_run_events),
    # Before the native route of the same path: Agno's form, else the native start.
    StreamingRoute("/workflows/{workflow_id}/runs", ("POST",), start_workflow_run),
]
