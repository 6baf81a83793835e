"""/tenants: the operator creates tenants (each with its first admin key) and lists them."""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body

from signoff.api.auth_models import (
    CreatedKey,
    CreateTenantRequest,
    KeyView,
    TenantCreated,
    TenantList,
    TenantView,
)
from signoff.api.models import ErrorBody
from signoff.api.principal import CurrentPrincipal
from signoff.auth.tenants import TenantService
from signoff.errors import ConfigurationError

_ERROR = {"application/json": {"model": ErrorBody}}


def tenants_router(tenants: TenantService | None) -> Router:
    router = Router()

    def service() -> TenantService:
        if tenants is None:
            raise ConfigurationError("setting tenants_table is missing")
        return tenants

    @router.post(
        "/tenants",
        summary="Create a tenant and its first admin key (operator key only)",
        tags=["tenants"],
        status_code=HTTPStatus.CREATED,
        responses={
            201: {
                "description": "The tenant, and its admin key shown this once",
                "content": {"application/json": {"model": TenantCreated}},
            },
            409: {"description": "The tenant id is taken", "content": _ERROR},
        },
    )
    def create_tenant(
        principal: CurrentPrincipal,
        request: Annotated[CreateTenantRequest, Body(embed=False)],
    ) -> Response[TenantCreated]:
        tenant_service = service()
        record, key_record, key = tenant_service.create_tenant(
            request.name,
            tenant_id=request.tenant_id,
            plan=request.plan,
            rate_limit=request.rate_limit.plan() if request.rate_limit else None,
        )
        _, limit = tenant_service.limit_of(record)
        created = TenantCreated(
            tenant=TenantView.of(record, limit),
            key=CreatedKey(**KeyView.of(key_record).model_dump(), key=key),
        )
        return Response(
            status_code=HTTPStatus.CREATED,
            content_type=content_types.APPLICATION_JSON,
            body=created.model_dump(mode="json"),
        )

    @router.get("/tenants", summary="List the tenants (operator key only)", tags=["tenants"])
    def list_tenants(principal: CurrentPrincipal) -> TenantList:
        tenant_service = service()
        return TenantList(
            data=[
                TenantView.of(record, tenant_service.limit_of(record)[1])
                for record in tenant_service.list_tenants()
            ]
        )

    return router
