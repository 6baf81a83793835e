"""/workflows/{id}/secrets: set and remove the values of a workflow's secret environment
variables; reading lists their names and whether each is set, never a value.

Admin keys only (signoff.api.access: an unlisted route is an admin route), like every other
change to a workflow.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from pydantic import BaseModel, ConfigDict, Field

from signoff.api.models import ErrorBody
from signoff.api.principal import CurrentPrincipal
from signoff.errors import ConfigurationError
from signoff.workflows.secrets import WorkflowSecretsService

_ERROR = {"application/json": {"model": ErrorBody}}
_NOT_FOUND = {
    "description": "No such workflow, or it declares no such secret",
    "content": _ERROR,
}
# Secrets Manager keeps at most 64 KiB per secret.
MAX_SECRET_CHARS = 65536


class SecretValue(BaseModel):
    model_config = ConfigDict(extra="forbid")

    value: str = Field(min_length=1, max_length=MAX_SECRET_CHARS)


class SecretView(BaseModel):
    name: str
    set: bool


class SecretList(BaseModel):
    data: list[SecretView]


def secrets_router(secrets: WorkflowSecretsService | None) -> Router:
    router = Router()

    def service() -> WorkflowSecretsService:
        if secrets is None:
            raise ConfigurationError("setting workflow_secrets_prefix is missing")
        return secrets

    @router.get(
        "/workflows/<workflow_id>/secrets",
        summary="List a workflow's secret environment variables and whether each is set",
        tags=["workflows"],
        responses={404: _NOT_FOUND},
    )
    def list_secrets(
        principal: CurrentPrincipal, workflow_id: Annotated[str, Path()]
    ) -> SecretList:
        found = service().list(principal.tenant_id, workflow_id)
        return SecretList(data=[SecretView(name=item.name, set=item.set) for item in found])

    @router.put(
        "/workflows/<workflow_id>/secrets/<name>",
        summary="Set the value of a secret environment variable (never shown again)",
        description=(
            "The value is kept in the deployment's secret store; nodes that run in the node "
            "function read it at run time and it is redacted from their records and events."
        ),
        tags=["workflows"],
        status_code=HTTPStatus.CREATED,
        responses={
            201: {"description": "Set (it had no value before)"},
            204: {"description": "Replaced"},
            404: _NOT_FOUND,
        },
    )
    def put_secret(
        principal: CurrentPrincipal,
        workflow_id: Annotated[str, Path()],
        name: Annotated[str, Path()],
        secret: Annotated[SecretValue, Body(embed=False)],
    ) -> Response[SecretView | None]:
        created = service().put(principal.tenant_id, workflow_id, name, secret.value)
        if not created:
            return Response(status_code=HTTPStatus.NO_CONTENT, body=None)
        return Response(
            status_code=HTTPStatus.CREATED,
            content_type=content_types.APPLICATION_JSON,
            body=SecretView(name=name, set=True).model_dump(mode="json"),
        )

    @router.delete(
        "/workflows/<workflow_id>/secrets/<name>",
        summary="Remove the value of a secret environment variable",
        tags=["workflows"],
        status_code=HTTPStatus.NO_CONTENT,
        responses={204: {"description": "Removed"}, 404: _NOT_FOUND},
    )
    def delete_secret(
        principal: CurrentPrincipal,
        workflow_id: Annotated[str, Path()],
        name: Annotated[str, Path()],
    ) -> Response[None]:
        service().delete(principal.tenant_id, workflow_id, name)
        return Response(status_code=HTTPStatus.NO_CONTENT, body=None)

    return router
