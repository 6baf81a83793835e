"""/keys: a tenant's admin creates, lists, rotates and deletes its API keys.

A key is shown in full once, when it is created (or rotated); afterwards only its prefix.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path

from signoff.api.auth_models import (
    CreatedKey,
    CreateKeyRequest,
    KeyList,
    KeyView,
    RotatedKey,
    RotateKeyRequest,
)
from signoff.api.models import ErrorBody
from signoff.api.principal import CurrentPrincipal
from signoff.auth.keys import ApiKeyService
from signoff.errors import ConfigurationError

_ERROR = {"application/json": {"model": ErrorBody}}


def keys_router(keys: ApiKeyService | None) -> Router:
    router = Router()

    def service() -> ApiKeyService:
        if keys is None:
            raise ConfigurationError("setting api_keys_table is missing")
        return keys

    @router.post(
        "/keys",
        summary="Create an API key (shown in full this once)",
        tags=["keys"],
        status_code=HTTPStatus.CREATED,
        responses={
            201: {
                "description": "The key; store it now, it is never shown again",
                "content": {"application/json": {"model": CreatedKey}},
            },
            404: {"description": "No such workflow (app keys)", "content": _ERROR},
        },
    )
    def create_key(
        principal: CurrentPrincipal, request: Annotated[CreateKeyRequest, Body(embed=False)]
    ) -> Response[CreatedKey]:
        record, key = service().create_key(
            principal.tenant_id,
            request.name,
            request.role,
            workflow_id=request.workflow_id,
            expires_at=request.expires_at,
            rate_limit=request.rate_limit.plan() if request.rate_limit else None,
        )
        created = CreatedKey(**KeyView.of(record).model_dump(), key=key)
        return _json(HTTPStatus.CREATED, created)

    @router.get("/keys", summary="List the tenant's API keys (by prefix)", tags=["keys"])
    def list_keys(principal: CurrentPrincipal) -> KeyList:
        return KeyList(
            data=[KeyView.of(record) for record in service().list_keys(principal.tenant_id)]
        )

    @router.delete(
        "/keys/<key_id>",
        summary="Delete an API key: it stops working",
        tags=["keys"],
        status_code=HTTPStatus.NO_CONTENT,
        responses={
            204: {"description": "Deleted"},
            404: {"description": "No such key", "content": _ERROR},
            409: {"description": "The tenant's last admin key", "content": _ERROR},
        },
    )
    def delete_key(principal: CurrentPrincipal, key_id: Annotated[str, Path()]) -> Response[None]:
        service().delete_key(principal.tenant_id, key_id)
        return Response(status_code=HTTPStatus.NO_CONTENT, body=None)

    @router.post(
        "/keys/<key_id>/rotate",
        summary="Rotate an API key: a new key, the old one works for a grace period",
        description="The old key keeps working for grace_seconds (24 hours unless asked "
        "otherwise), then stops.",
        tags=["keys"],
        status_code=HTTPStatus.CREATED,
        responses={
            201: {
                "description": "The new key (shown this once) and the old one's end",
                "content": {"application/json": {"model": RotatedKey}},
            },
            404: {"description": "No such key", "content": _ERROR},
            409: {"description": "The key no longer works", "content": _ERROR},
        },
    )
    def rotate_key(
        principal: CurrentPrincipal,
        key_id: Annotated[str, Path()],
        request: Annotated[RotateKeyRequest | None, Body(embed=False)] = None,
    ) -> Response[RotatedKey]:
        grace = request.grace_seconds if request is not None else None
        new, key, old = service().rotate_key(principal.tenant_id, key_id, grace)
        rotated = RotatedKey(
            key=CreatedKey(**KeyView.of(new).model_dump(), key=key), previous=KeyView.of(old)
        )
        return _json(HTTPStatus.CREATED, rotated)

    return router


def _json(status: HTTPStatus, body: CreatedKey | RotatedKey) -> Response:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=body.model_dump(mode="json"),
    )
