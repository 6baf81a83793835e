"""The api's security services, built from Settings: keys, tenants, tokens, limits, idempotency.

`SecurityServices.install(app)` adds what they bring to a resolver: the access middleware (who
may call which route, signoff.api.access) and the /tenants, /keys and /tokens routes. The gate in
front of the resolver (body limit, rate limits) is built from `gate`.

A setting left out (a unit test's partial stack) leaves its service out: its routes answer
`configuration_error`, and requests go unlimited. template.yaml gives the api function them all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from signoff.api.access import access_middleware
from signoff.api.gate import RequestGate
from signoff.api.idempotency import IdempotentRequests
from signoff.api.routes.keys import keys_router
from signoff.api.routes.tenants import tenants_router
from signoff.api.routes.tokens import tokens_router
from signoff.auth.keys import ApiKeyService
from signoff.auth.tenants import TenantService
from signoff.auth.tokens import SecretSource, TokenService
from signoff.ratelimit.limiter import DynamoRateLimiter
from signoff.ratelimit.plans import resolve_plans
from signoff.settings import Settings
from signoff.store.api_keys import DynamoApiKeyRepository
from signoff.store.runs import RunRepository
from signoff.store.tenants import DynamoTenantRepository
from signoff.store.workflows import WorkflowRepository

logger = Logger(child=True)


class TenantResources:
    """What routes and scopes name, found within one tenant (NotFound for anything else)."""

    def __init__(self, runs: RunRepository, workflows: WorkflowRepository) -> None:
        self._runs = runs
        self._workflows = workflows

    def workflow_of_run(self, tenant_id: str, run_id: str) -> str:
        return self._runs.get(tenant_id, run_id).workflow_id

    def check_workflow(self, tenant_id: str, workflow_id: str) -> None:
        self._workflows.get(tenant_id, workflow_id)


@dataclass(frozen=True)
class SecurityServices:
    resources: TenantResources
    gate: RequestGate
    idempotency: IdempotentRequests
    keys: ApiKeyService | None = None
    tenants: TenantService | None = None
    tokens: TokenService | None = None
    plans: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        runs: RunRepository,
        workflows: WorkflowRepository,
        dynamodb_client: Any,
        secrets_client: Any = None,
    ) -> SecurityServices:
        resources = TenantResources(runs, workflows)
        plans = resolve_plans(settings.rate_limit_plans)
        keys = (
            ApiKeyService(
                DynamoApiKeyRepository(settings.api_keys_table, dynamodb_client),
                workflows=workflows,
                rotation_grace_seconds=settings.key_rotation_grace_seconds,
            )
            if settings.api_keys_table
            else None
        )
        tenants = (
            TenantService(
                DynamoTenantRepository(settings.tenants_table, dynamodb_client),
                keys,
                plans,
                default_plan=settings.default_plan,
            )
            if settings.tenants_table and keys is not None
            else None
        )
        tokens = (
            TokenService(
                SecretSource(settings.token_secret_ref, secrets_client),
                targets=resources,
                default_ttl_seconds=settings.token_default_ttl_seconds,
                max_ttl_seconds=settings.token_max_ttl_seconds,
            )
            if settings.token_secret_ref
            else None
        )
        limiter = (
            DynamoRateLimiter(settings.rate_limits_table, dynamodb_client)
            if settings.rate_limits_table
            else None
        )
        if limiter is None:
            logger.warning("no rate_limits_table: requests are not rate limited")
        return cls(
            resources=resources,
            gate=RequestGate(max_request_bytes=settings.max_request_bytes, limiter=limiter),
            idempotency=IdempotentRequests(
                settings.idempotency_table,
                dynamodb_client,
                ttl_seconds=settings.idempotency_ttl_seconds,
            ),
            keys=keys,
            tenants=tenants,
            tokens=tokens,
            plans=plans,
        )

    def install(self, app: APIGatewayRestResolver) -> None:
        app.use(middlewares=[access_middleware(self.resources)])
        app.include_router(tenants_router(self.tenants))
        app.include_router(keys_router(self.keys))
        app.include_router(tokens_router(self.tokens))
