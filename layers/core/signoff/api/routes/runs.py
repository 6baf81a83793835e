"""Runs: start one on a workflow, list them, read one, list its node executions."""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path, Query

from signoff.api.idempotency import HEADER as IDEMPOTENCY_HEADER
from signoff.api.idempotency import IdempotentRequests, StoredResponse
from signoff.api.models import (
    ErrorBody,
    NodeExecutionList,
    NodeExecutionView,
    RunAccepted,
    RunList,
    RunProgress,
    RunSummary,
    RunView,
    StartRunRequest,
)
from signoff.api.principal import CurrentPrincipal
from signoff.api.review_models import IndexStepView, ReviewView
from signoff.reviews.history import HistoryEntry, RunHistory
from signoff.runs.service import RunService, RunSnapshot
from signoff.store.runs import RunStatus

_ERROR = {"application/json": {"model": ErrorBody}}


def runs_router(
    runs: RunService,
    idempotency: IdempotentRequests | None = None,
    history: RunHistory | None = None,
) -> Router:
    router = Router()
    requests_once = idempotency or IdempotentRequests(None)

    @router.post(
        "/workflows/<workflow_id>/runs",
        summary="Start a run",
        description="Blocking: answers 200 with the finished run, or 202 with the run id when "
        "the run outlasts the API's wait (poll GET /runs/{run_id}). Streaming (`response_mode: "
        "streaming`): answers 200 `text/event-stream`, the run's events in Dify's SSE format "
        "(workflow_started, node_started, node_finished, ... workflow_finished or "
        "workflow_paused), each frame with `id: <sequence>`; GET /runs/{run_id}/events "
        "re-attaches with Last-Event-ID.",
        tags=["runs"],
        responses={
            200: {
                "description": "The finished run",
                "content": {"application/json": {"model": RunView}},
            },
            202: {
                "description": "Still running when the wait ended (or a streaming start where "
                "the API cannot stream)",
                "content": {"application/json": {"model": RunAccepted}},
            },
            400: {"description": "Invalid inputs", "content": _ERROR},
            404: {
                "description": "No such workflow, or no such version of it",
                "content": _ERROR,
            },
            409: {
                "description": "The Idempotency-Key's first request is running",
                "content": _ERROR,
            },
            422: {
                "description": "The Idempotency-Key was used for another request",
                "content": _ERROR,
            },
        },
    )
    def start_run(
        principal: CurrentPrincipal,
        workflow_id: Annotated[str, Path()],
        request: Annotated[StartRunRequest, Body(embed=False)],
        idempotency_key: Annotated[
            str | None,
            Header(
                alias=IDEMPOTENCY_HEADER,
                description="Send the same key again (with the same body) to get the first "
                "answer instead of a second run; remembered 24 hours.",
            ),
        ] = None,
    ) -> Response[RunView | RunAccepted]:
        def start() -> StoredResponse:
            started = runs.start(
                principal.tenant_id,
                workflow_id,
                request.inputs,
                user=request.user,
                response_mode=request.response_mode,
                mode=request.mode,
                version=request.version,
            )
            if started.snapshot is not None:
                return StoredResponse(
                    HTTPStatus.OK, run_view(started.snapshot).model_dump(mode="json")
                )
            accepted = RunAccepted(run_id=started.run.run_id, status=started.run.status.value)
            return StoredResponse(HTTPStatus.ACCEPTED, accepted.model_dump(mode="json"))

        answer = requests_once.run(
            tenant_id=principal.tenant_id,
            operation="POST /workflows/{workflow_id}/runs",
            key=idempotency_key,
            request={"workflow_id": workflow_id, "body": request.model_dump(mode="json")},
            action=start,
            lambda_context=router.lambda_context,
        )
        return replay(answer)

    @router.get("/runs", summary="List the tenant's runs, newest first", tags=["runs"])
    def list_runs(
        principal: CurrentPrincipal,
        workflow_id: Annotated[str | None, Query(description="Only this workflow's runs")] = None,
        status: Annotated[RunStatus | None, Query(description="Only runs in this status")] = None,
        page: Annotated[int, Query(ge=1, description="The page, from 1")] = 1,
        limit: Annotated[int, Query(ge=1, le=100, description="Runs per page")] = 20,
    ) -> RunList:
        records, has_more = runs.page(
            principal.tenant_id, page=page, limit=limit, workflow_id=workflow_id, status=status
        )
        return RunList(
            data=[
                RunSummary(
                    run_id=record.run_id,
                    workflow_id=record.workflow_id,
                    workflow_version=record.workflow_version,
                    status=record.status.value,
                    created_at=record.created_at,
                    finished_at=record.finished_at,
                    mode=record.mode,
                    retry_of=record.retry_of,
                )
                for record in records
            ],
            page=page,
            limit=limit,
            has_more=has_more,
        )

    @router.get(
        "/runs/<run_id>",
        summary="Read a run: status, outputs, the nodes at work, progress",
        tags=["runs"],
        responses={
            200: {"description": "The run"},
            404: {"description": "No such run", "content": _ERROR},
        },
    )
    def get_run(principal: CurrentPrincipal, run_id: Annotated[str, Path()]) -> RunView:
        return run_view(runs.get(principal.tenant_id, run_id))

    @router.get(
        "/runs/<run_id>/nodes",
        summary="Every node execution of a run (every attempt, every review round), in the "
        "order they started",
        tags=["runs"],
        responses={
            200: {"description": "The node executions"},
            404: {"description": "No such run", "content": _ERROR},
        },
    )
    def list_run_nodes(
        principal: CurrentPrincipal, run_id: Annotated[str, Path()]
    ) -> NodeExecutionList:
        if history is not None:
            entries = history.list(principal.tenant_id, run_id)
            return NodeExecutionList(data=[_history_view(entry) for entry in entries])
        executions = runs.list_nodes(principal.tenant_id, run_id)
        return NodeExecutionList(data=[_node_view(execution) for execution in executions])

    return router


def run_view(snapshot: RunSnapshot) -> RunView:
    run = snapshot.run
    return RunView(
        run_id=run.run_id,
        workflow_id=run.workflow_id,
        workflow_version=run.workflow_version,
        status=run.status.value,
        inputs=run.inputs,
        outputs=run.outputs,
        error=run.error,
        user=run.user,
        elapsed_time=round(snapshot.elapsed_seconds, 3),
        created_at=run.created_at,
        started_at=run.started_at,
        finished_at=run.finished_at,
        execution_arn=run.execution_arn,
        current_nodes=[_node_view(execution) for execution in snapshot.current_nodes],
        mode=run.mode,
        retry_of=run.retry_of,
        total_tokens=run.total_tokens,
        total_price=run.total_price,
        currency=run.currency,
        progress=RunProgress(
            finished_nodes=snapshot.progress.finished_nodes,
            total_nodes=snapshot.progress.total_nodes,
        ),
    )


def _history_view(entry: HistoryEntry) -> NodeExecutionView:
    review = entry.review
    return NodeExecutionView(
        node_execution_id=entry.node_execution_id,
        node_id=entry.node_id,
        node_type=entry.node_type,
        title=entry.title,
        attempt=entry.attempt,
        status=entry.status,
        inputs=entry.inputs,
        outputs=entry.outputs,
        error=entry.error,
        started_at=entry.started_at,
        finished_at=entry.finished_at,
        elapsed_ms=entry.elapsed_ms,
        round=entry.round,
        container_id=entry.container_id,
        item_index=entry.item_index,
        loop_index=entry.loop_index,
        index_path=(
            [IndexStepView(**step.model_dump()) for step in entry.index_path]
            if entry.index_path is not None
            else None
        ),
        review=ReviewView.of(review) if review is not None else None,
    )


def _node_view(execution: Any) -> NodeExecutionView:
    return NodeExecutionView.model_validate(execution.model_dump(mode="json"))


def _json(status: HTTPStatus, body: RunView | RunAccepted) -> Response:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=body.model_dump(mode="json"),
    )


def replay(answer: StoredResponse) -> Response:
    """A stored answer as the response; a replayed one says so in Idempotent-Replayed."""
    return Response(
        status_code=answer.status,
        content_type=content_types.APPLICATION_JSON,
        body=answer.body,
        headers={"Idempotent-Replayed": "true"} if answer.replayed else None,
    )
