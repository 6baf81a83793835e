"""/workflows: create a workflow from its graph, list a tenant's workflows, read one, change its
graph (a new version), and read its versions."""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path

from signoff.api.models import (
    ErrorBody,
    WorkflowCreated,
    WorkflowDetail,
    WorkflowDocument,
    WorkflowList,
    WorkflowSummary,
    WorkflowVersionDetail,
    WorkflowVersionList,
    WorkflowVersionSummary,
)
from signoff.api.principal import CurrentPrincipal
from signoff.errors import InvalidInput
from signoff.store.workflows import WorkflowRecord
from signoff.workflows.service import WorkflowService

IF_MATCH_HEADER = "If-Match"

_ERROR = {"application/json": {"model": ErrorBody}}
_ERRORS = {
    400: {"description": "Invalid graph or input", "content": _ERROR},
    404: {"description": "No such workflow", "content": _ERROR},
    409: {"description": "The workflow id is taken", "content": _ERROR},
}
_YAML_BODY = (
    "The graph in the native format as JSON, or as YAML (Content-Type application/yaml, "
    "application/x-yaml or text/yaml): a native document or a Dify DSL export "
    "(`kind: app`, app.mode workflow), imported with every unsupported feature reported "
    "as an issue (docs/dify-import.md)."
)


def workflows_router(workflows: WorkflowService) -> Router:
    router = Router()

    @router.post(
        "/workflows",
        summary="Create a workflow from its graph",
        description=(
            f"{_YAML_BODY} With a YAML body, the query parameter `id` names the workflow. "
            "The workflow starts at version 1."
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
        record = workflows.create(
            principal.tenant_id,
            document.model_dump(exclude_unset=True),
            created_by=principal.actor,
        )
        created = WorkflowCreated(
            id=record.workflow_id,
            version=record.version,
            name=record.name,
            state_machine_arn=record.state_machine_arn,
            version_id=record.version_id,
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
        responses={
            200: {
                "description": "The workflow at its newest version; ETag names the version",
                "content": {"application/json": {"model": WorkflowDetail}},
            },
            404: _ERRORS[404],
        },
    )
    def get_workflow(
        principal: CurrentPrincipal, workflow_id: Annotated[str, Path()]
    ) -> Response[WorkflowDetail]:
        record = workflows.get(principal.tenant_id, workflow_id)
        return _detail(record, HTTPStatus.OK)

    @router.put(
        "/workflows/<workflow_id>",
        summary="Change a workflow's graph: a new version",
        description=(
            f"{_YAML_BODY} The graph is validated and compiled, and becomes the next version "
            "with a state machine of its own; older versions stay runnable (POST "
            "/workflows/{workflow_id}/runs with `version`). Send `If-Match` with the version "
            'the change is based on (the `ETag` of GET /workflows/{workflow_id}, e.g. `"3"`) '
            "to be told, 409 workflow_version_conflict, when someone else changed the workflow "
            "first; without it, the change is based on the version read when it arrives, and of "
            "two updates racing from one version one wins and the other answers 409."
        ),
        tags=["workflows"],
        responses={
            200: {
                "description": "The new version; ETag names it",
                "content": {"application/json": {"model": WorkflowDetail}},
            },
            400: _ERRORS[400],
            404: _ERRORS[404],
            409: {
                "description": "workflow_version_conflict: the workflow is at another version "
                "than If-Match names, or another update made the version first",
                "content": _ERROR,
            },
        },
    )
    def update_workflow(
        principal: CurrentPrincipal,
        workflow_id: Annotated[str, Path()],
        document: Annotated[WorkflowDocument, Body(embed=False)],
        if_match: Annotated[
            str | None,
            Header(
                alias=IF_MATCH_HEADER,
                description='The version the change is based on: "3" (or 3, W/"3"); * for any.',
            ),
        ] = None,
    ) -> Response[WorkflowDetail]:
        record = workflows.update(
            principal.tenant_id,
            workflow_id,
            document.model_dump(exclude_unset=True),
            expected_version=expected_version(if_match),
            created_by=principal.actor,
        )
        return _detail(record, HTTPStatus.OK)

    @router.get(
        "/workflows/<workflow_id>/versions",
        summary="List a workflow's versions, oldest first",
        tags=["workflows"],
        responses={200: {"description": "The versions"}, 404: _ERRORS[404]},
    )
    def list_workflow_versions(
        principal: CurrentPrincipal, workflow_id: Annotated[str, Path()]
    ) -> WorkflowVersionList:
        records = workflows.versions(principal.tenant_id, workflow_id)
        return WorkflowVersionList(data=[_version_summary(record) for record in records])

    @router.get(
        "/workflows/<workflow_id>/versions/<version>",
        summary="Read one version of a workflow: its graph",
        tags=["workflows"],
        responses={
            200: {"description": "The version"},
            400: {"description": "The version is not a number", "content": _ERROR},
            404: {
                "description": "No such workflow (not_found) or version "
                "(workflow_version_not_found)",
                "content": _ERROR,
            },
        },
    )
    def get_workflow_version(
        principal: CurrentPrincipal,
        workflow_id: Annotated[str, Path()],
        version: Annotated[int, Path(ge=1, le=2**31)],
    ) -> WorkflowVersionDetail:
        record = workflows.version(principal.tenant_id, workflow_id, version)
        return WorkflowVersionDetail(
            **_version_summary(record).model_dump(),
            workflow_id=record.workflow_id,
            graph=record.graph,
        )

    return router


def expected_version(if_match: str | None) -> int | None:
    """The version an If-Match header names: `"3"`, `3` or `W/"3"`; None for none or `*`."""
    if if_match is None or not if_match.strip() or if_match.strip() == "*":
        return None
    text = if_match.strip()
    if text.startswith("W/"):
        text = text[2:]
    text = text.strip('"')
    if not text.isdigit() or not 1 <= int(text) <= 2**31:
        raise InvalidInput(
            'If-Match names the version the change is based on, e.g. "3"', field=IF_MATCH_HEADER
        )
    return int(text)


def etag(record: WorkflowRecord) -> str:
    return f'"{record.version}"'


def _detail(record: WorkflowRecord, status: HTTPStatus) -> Response[WorkflowDetail]:
    detail = WorkflowDetail(**_summary(record).model_dump(), graph=record.graph)
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=detail.model_dump(mode="json"),
        headers={"ETag": etag(record)},
    )


def _version_summary(record: WorkflowRecord) -> WorkflowVersionSummary:
    return WorkflowVersionSummary(
        version=record.version,
        version_id=record.version_id,
        name=record.name,
        description=record.description,
        state_machine_arn=record.state_machine_arn,
        created_at=record.updated_at,
        created_by=record.version_created_by,
    )


def _summary(record: WorkflowRecord) -> WorkflowSummary:
    return WorkflowSummary(
        id=record.workflow_id,
        name=record.name,
        description=record.description,
        version=record.version,
        state_machine_arn=record.state_machine_arn,
        created_at=record.created_at,
        updated_at=record.updated_at,
        version_id=record.version_id,
    )
