"""Runs: start one on a workflow, list them, read one, list its node executions."""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path

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
from signoff.runs.service import RunService, RunSnapshot

_ERROR = {"application/json": {"model": ErrorBody}}


def runs_router(runs: RunService) -> Router:
    router = Router()

    @router.post(
        "/workflows/<workflow_id>/runs",
        summary="Start a run",
        description="Blocking: answers 200 with the finished run, or 202 with the run id when "
        "the run outlasts the API's wait (poll GET /runs/{run_id}).",
        tags=["runs"],
        responses={
            200: {
                "description": "The finished run",
                "content": {"application/json": {"model": RunView}},
            },
            202: {
                "description": "Still running when the wait ended",
                "content": {"application/json": {"model": RunAccepted}},
            },
            400: {"description": "Invalid inputs", "content": _ERROR},
            404: {"description": "No such workflow", "content": _ERROR},
        },
    )
    def start_run(
        principal: CurrentPrincipal,
        workflow_id: Annotated[str, Path()],
        request: Annotated[StartRunRequest, Body(embed=False)],
    ) -> Response[RunView | RunAccepted]:
        started = runs.start(
            principal.tenant_id,
            workflow_id,
            request.inputs,
            user=request.user,
            response_mode=request.response_mode,
        )
        if started.snapshot is not None:
            return _json(HTTPStatus.OK, run_view(started.snapshot))
        accepted = RunAccepted(run_id=started.run.run_id, status=started.run.status.value)
        return _json(HTTPStatus.ACCEPTED, accepted)

    @router.get("/runs", summary="List the tenant's runs, newest first", tags=["runs"])
    def list_runs(principal: CurrentPrincipal) -> RunList:
        records = runs.list(principal.tenant_id)
        return RunList(
            data=[
                RunSummary(
                    run_id=record.run_id,
                    workflow_id=record.workflow_id,
                    workflow_version=record.workflow_version,
                    status=record.status.value,
                    created_at=record.created_at,
                    finished_at=record.finished_at,
                )
                for record in records
            ]
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
        summary="Every node execution of a run, in the order they started",
        tags=["runs"],
        responses={
            200: {"description": "The node executions"},
            404: {"description": "No such run", "content": _ERROR},
        },
    )
    def list_run_nodes(
        principal: CurrentPrincipal, run_id: Annotated[str, Path()]
    ) -> NodeExecutionList:
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
        progress=RunProgress(
            finished_nodes=snapshot.progress.finished_nodes,
            total_nodes=snapshot.progress.total_nodes,
        ),
    )


def _node_view(execution: Any) -> NodeExecutionView:
    return NodeExecutionView.model_validate(execution.model_dump(mode="json"))


def _json(status: HTTPStatus, body: RunView | RunAccepted) -> Response:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=body.model_dump(mode="json"),
    )
