"""Dify's Service API for workflow apps under /v1, for Dify's clients: the app key is the app.

Errors under /v1 answer in Dify's shape (signoff.api.errors). A streaming run is started here and
answered 202 with its task id, which the streaming app turns into the run's events; it also
serves re-attaching (GET /v1/workflow/{run_id}/events): signoff.difyapi.streaming.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query

from signoff.api.principal import CurrentPrincipal
from signoff.difyapi import shapes
from signoff.difyapi.forms import parse_multipart
from signoff.difyapi.models import (
    DifyBlockingResponse,
    DifyError,
    DifyFormSubmission,
    DifyHumanInputForm,
    DifyInfo,
    DifyLogsPage,
    DifyMeta,
    DifyParameters,
    DifyRunDetail,
    DifyRunRequest,
    DifySite,
    DifyStopRequest,
    DifyStopResult,
    DifyTaskStarted,
    DifyUpload,
)
from signoff.difyapi.service import DifyAppService, LogQuery
from signoff.difyapi.shapes import RunFacts
from signoff.difyapi.uploads import NoFileUploaded
from signoff.errors import InvalidInput

_TAGS = ["dify"]
_ERROR = {"application/json": {"model": DifyError}}
_ERRORS: dict[int, Any] = {
    400: {"description": "invalid_param, not_workflow_app", "content": _ERROR},
    401: {"description": "unauthorized", "content": _ERROR},
    404: {"description": "not_found", "content": _ERROR},
    429: {"description": "too_many_requests", "content": _ERROR},
}
LogStatus = Literal["succeeded", "failed", "stopped", "partial-succeeded"]


def dify_app_router(dify: DifyAppService) -> Router:
    router = Router()

    def run(principal: Any, request: DifyRunRequest, workflow_id: str | None) -> Response:
        started = dify.start(principal, request, workflow_id=workflow_id)
        if isinstance(started, RunFacts):
            return _json(shapes.blocking_response(started))
        # Streaming: the streaming app (signoff.difyapi.streaming) turns this answer into the
        # run's events; where nothing can stream, the client gets the task id to follow.
        return _json({"task_id": started.run_id, "workflow_run_id": started.run_id}, status=202)

    @router.post(
        "/v1/workflows/run",
        summary="Run the app's workflow (Dify)",
        description="blocking answers the finished run; streaming answers server-sent events "
        "(workflow_started, node_started, node_finished, ..., workflow_finished).",
        tags=_TAGS,
        responses={
            200: {
                "description": "The run (blocking), or its events (streaming)",
                "content": {
                    "application/json": {"model": DifyBlockingResponse},
                    "text/event-stream": {"schema": {"type": "string"}},
                },
            },
            202: {
                "description": "A streaming run started where the API cannot stream",
                "content": {"application/json": {"model": DifyTaskStarted}},
            },
            **_ERRORS,
        },
    )
    def run_app_workflow(
        principal: CurrentPrincipal, request: Annotated[DifyRunRequest, Body(embed=False)]
    ) -> Response[DifyBlockingResponse | DifyTaskStarted]:
        return run(principal, request, None)

    @router.post(
        "/v1/workflows/<workflow_id>/run",
        summary="Run a given workflow version (Dify)",
        description="Runs the workflow version whose version id (GET /workflows/{id}/versions: "
        "`version_id`, a UUID, as Dify names a published version) the path names; the app key's "
        "own workflow id runs its newest version. A version of another app, or an unknown id, "
        "answers 404 not_found.",
        tags=_TAGS,
        responses={
            200: {
                "description": "The run (blocking), or its events (streaming)",
                "content": {
                    "application/json": {"model": DifyBlockingResponse},
                    "text/event-stream": {"schema": {"type": "string"}},
                },
            },
            202: {
                "description": "A streaming run started where the API cannot stream",
                "content": {"application/json": {"model": DifyTaskStarted}},
            },
            **_ERRORS,
        },
    )
    def run_pinned_workflow(
        principal: CurrentPrincipal,
        workflow_id: Annotated[str, Path()],
        request: Annotated[DifyRunRequest, Body(embed=False)],
    ) -> Response[DifyBlockingResponse | DifyTaskStarted]:
        return run(principal, request, workflow_id)

    @router.get(
        "/v1/workflows/run/<workflow_run_id>",
        summary="Read a workflow run (Dify)",
        tags=_TAGS,
        responses={200: {"description": "The run"}, **_ERRORS},
    )
    def get_workflow_run(
        principal: CurrentPrincipal, workflow_run_id: Annotated[str, Path()]
    ) -> DifyRunDetail:
        return DifyRunDetail.model_validate(dify.run_detail(principal, workflow_run_id))

    @router.post(
        "/v1/workflows/tasks/<task_id>/stop",
        summary="Stop a streaming task's run (Dify)",
        tags=_TAGS,
        responses={200: {"description": "Stopped (or already ended)"}, **_ERRORS},
    )
    def stop_task(
        principal: CurrentPrincipal,
        task_id: Annotated[str, Path()],
        request: Annotated[DifyStopRequest, Body(embed=False)],
    ) -> DifyStopResult:
        return DifyStopResult.model_validate(dify.stop(principal, task_id))

    @router.get(
        "/v1/workflows/logs",
        summary="The app's workflow runs, newest first (Dify)",
        tags=_TAGS,
        responses={200: {"description": "A page of runs"}, **_ERRORS},
    )
    def workflow_logs(
        principal: CurrentPrincipal,
        keyword: Annotated[str | None, Query(description="Text in the inputs or outputs")] = None,
        status: Annotated[
            LogStatus | None, Query(description="succeeded, failed or stopped")
        ] = None,
        page: Annotated[int, Query(ge=1, le=99999)] = 1,
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
        created_at__before: Annotated[
            datetime | None, Query(description="ISO 8601; runs created before")
        ] = None,
        created_at__after: Annotated[
            datetime | None, Query(description="ISO 8601; runs created after")
        ] = None,
        created_by_end_user_session_id: Annotated[
            str | None, Query(description="The end user (the run's `user`)")
        ] = None,
        created_by_account: Annotated[
            str | None, Query(description="The account (the run's `user`)")
        ] = None,
    ) -> DifyLogsPage:
        query = LogQuery(
            keyword=keyword,
            status=status,
            page=page,
            limit=limit,
            created_at_before=_utc(created_at__before),
            created_at_after=_utc(created_at__after),
            session_id=created_by_end_user_session_id,
            account=created_by_account,
        )
        return DifyLogsPage.model_validate(dify.logs(principal, query))

    @router.get(
        "/v1/parameters",
        summary="The app's input form and upload settings (Dify)",
        tags=_TAGS,
        responses={200: {"description": "The parameters"}, **_ERRORS},
    )
    def app_parameters(
        principal: CurrentPrincipal,
        user: Annotated[str | None, Query(description="The end user")] = None,
    ) -> DifyParameters:
        return DifyParameters.model_validate(dify.parameters(principal))

    @router.get(
        "/v1/info",
        summary="The app's name and description (Dify)",
        tags=_TAGS,
        responses={200: {"description": "The app"}, **_ERRORS},
    )
    def app_info(principal: CurrentPrincipal) -> DifyInfo:
        return DifyInfo.model_validate(dify.info(principal))

    @router.get(
        "/v1/meta",
        summary="The app's tool icons (Dify)",
        tags=_TAGS,
        responses={200: {"description": "The meta"}, **_ERRORS},
    )
    def app_meta(principal: CurrentPrincipal) -> DifyMeta:
        return DifyMeta.model_validate(dify.meta(principal))

    @router.get(
        "/v1/site",
        summary="The app's web app settings (Dify)",
        tags=_TAGS,
        responses={200: {"description": "The site"}, **_ERRORS},
    )
    def app_site(principal: CurrentPrincipal) -> DifySite:
        return DifySite.model_validate(dify.site(principal))

    @router.post(
        "/v1/files/upload",
        summary="Upload a file for a file input (Dify)",
        description="multipart/form-data with `file` and `user`; pass the answer's id as "
        '`{"type": "document", "transfer_method": "local_file", "upload_file_id": id}`.',
        tags=_TAGS,
        status_code=201,
        responses={
            201: {"description": "Stored", "content": {"application/json": {"model": DifyUpload}}},
            413: {"description": "file_too_large", "content": _ERROR},
            **_ERRORS,
        },
    )
    def upload_file(principal: CurrentPrincipal) -> Response[DifyUpload]:
        form = parse_multipart(router.current_event.raw_event)
        user = form.fields.get("user", "").strip()
        if not user:
            raise InvalidInput("user is required", field="user")
        part = form.files.get("file")
        if part is None:
            raise NoFileUploaded("no file uploaded: send it as the form field `file`", field="file")
        body = dify.upload(
            principal,
            content=part.content,
            filename=part.filename,
            mime_type=part.content_type,
            user=user,
        )
        return _json(body, status=201)

    @router.get(
        "/v1/form/human_input/<form_token>",
        summary="Read a human-input form (Dify)",
        tags=_TAGS,
        responses={
            200: {"description": "The open form"},
            412: {
                "description": "human_input_form_submitted or human_input_form_expired",
                "content": _ERROR,
            },
            **_ERRORS,
        },
    )
    def get_human_input_form(
        principal: CurrentPrincipal, form_token: Annotated[str, Path()]
    ) -> DifyHumanInputForm:
        return DifyHumanInputForm.model_validate(dify.form(principal, form_token))

    @router.post(
        "/v1/form/human_input/<form_token>",
        summary="Submit a human-input form (Dify)",
        description="The action's id picks the node's outgoing edge; the values become its "
        "outputs. A form takes one submission.",
        tags=_TAGS,
        responses={
            200: {"description": "Submitted: the run goes on"},
            412: {
                "description": "human_input_form_submitted or human_input_form_expired",
                "content": _ERROR,
            },
            **_ERRORS,
        },
    )
    def submit_human_input_form(
        principal: CurrentPrincipal,
        form_token: Annotated[str, Path()],
        submission: Annotated[DifyFormSubmission, Body(embed=False)],
    ) -> dict[str, Any]:
        return dify.submit_form(
            principal,
            form_token,
            inputs=submission.inputs,
            action=submission.action,
            user=submission.user,
        )

    return router


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _json(body: dict[str, Any], *, status: int = 200) -> Response:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body)
