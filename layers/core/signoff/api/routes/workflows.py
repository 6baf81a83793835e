"""/workflows: create a workflow from its graph, list a tenant's workflows, read one."""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path

from signoff.api.models import (
    ErrorBody,
    WorkflowCreated,
    WorkflowDetail,
    WorkflowDocument,
    WorkflowList,
    WorkflowSummary,
)
from signoff.api.principal import CurrentPrincipal
from signoff.store.workflows import WorkflowRecord
from signoff.workflows.service import WorkflowService

_ERROR = {"application/json": {"model": ErrorBody}}
_ERRORS = {
    400: {"description": "Invalid graph or input", "content": _ERROR},
    404: {"description": "No such workflow", "content": _ERROR},
    409: {"description": "The workflow id is taken", "content": _ERROR},
}


def workflows_router(workflows: WorkflowService) -> Router:
    router = Router()

    @router.post(
        "/workflows",
        summary="Create a workflow from its graph",
        description=(
            "The graph in the native format as JSON, or as YAML (Content-Type application/yaml, "
            "application/x-yaml or text/yaml): a native document or a Dify DSL export "
            "(`kind: app`, app.mode workflow), imported with every unsupported feature reported "
            "as an issue (docs/dify-import.md). With a YAML body, the query parameter `id` names "
            "the workflow."
        ),
        tags=["workflows"],
        status_code=HTTPStatus.CREATED,
        responses={
            201: {
                "description": "Created; its state machine exists",
                "content": {"application/json": {"model": WorkflowCreated}},
            },
            400: _ERRORS[400],
            409: _ERRORS[409],
        },
    )
    def create_workflow(
        principal: CurrentPrincipal,
        document: Annotated[WorkflowDocument, Body(embed=False)],
    ) -> Response[WorkflowCreated]:
        record = workflows.create(principal.tenant_id, document.model_dump(exclude_unset=True))
        created = WorkflowCreated(
            id=record.workflow_id,
            version=record.version,
            name=record.name,
            state_machine_arn=record.state_machine_arn,
        )
        return Response(
            status_code=HTTPStatus.CREATED,
            content_type=content_types.APPLICATION_JSON,
            body=created.model_dump(mode="json"),
        )

    @router.get("/workflows", summary="List the tenant's workflows", tags=["workflows"])
    def list_workflows(principal: CurrentPrincipal) -> WorkflowList:
        records = workflows.list(principal.tenant_id)
        return WorkflowList(data=[_summary(record) for record in records])

    @router.get(
        "/workflows/<workflow_id>",
        summary="Read a workflow: its graph and state machine",
        tags=["workflows"],
        responses={200: {"description": "The workflow"}, 404: _ERRORS[404]},
    )
    def get_workflow(
        principal: CurrentPrincipal, workflow_id: Annotated[str, Path()]
    ) -> WorkflowDetail:
        record = workflows.get(principal.tenant_id, workflow_id)
        return WorkflowDetail(**_summary(record).model_dump(), graph=record.graph)

    return router


def _summary(record: WorkflowRecord) -> WorkflowSummary:
    return WorkflowSummary(
        id=record.workflow_id,
        name=record.name,
        description=record.description,
        version=record.version,
        state_machine_arn=record.state_machine_arn,
        created_at=record.created_at,
        updated_at=record.updated_at,
    )
