"""The api function's resolver: routers, OpenAPI, Swagger UI and the exception mapping."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import boto3
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

import signoff
from signoff.api.errors import register_error_handlers
from signoff.api.gate import RequestGate, SignoffResolver
from signoff.api.routes.docs import register_docs
from signoff.api.routes.health import health_router
from signoff.api.routes.reviews import reviews_router
from signoff.api.routes.runs import runs_router
from signoff.api.routes.workflows import workflows_router
from signoff.api.security import SecurityServices
from signoff.payloads import PayloadStore
from signoff.reviews.services import HumanLoopServices
from signoff.reviews.variants import VariantStateMachines, compiler_variants
from signoff.runs.service import RunService
from signoff.settings import Settings
from signoff.store.node_executions import DynamoNodeExecutionRepository
from signoff.store.runs import DynamoRunRepository
from signoff.store.workflows import DynamoWorkflowRepository
from signoff.workflows.service import WorkflowService

API_TITLE = "signoff"
API_DESCRIPTION = (
    "Run Dify-style workflow graphs as AWS Step Functions state machines. "
    "Authenticate with `Authorization: Bearer <API key>` (or a token from POST /tokens). "
    "Errors answer `{status, code, message, error_code}`."
)


@dataclass(frozen=True)
class ApiServices:
    workflows: WorkflowService
    runs: RunService
    security: SecurityServices | None = field(default=None)
    # Reviews, variables, cancel, retry, single-node runs (signoff/reviews).
    human_loop: HumanLoopServices | None = field(default=None)

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        dynamodb_client: Any = None,
        sfn_client: Any = None,
        s3_client: Any = None,
        secrets_client: Any = None,
        lambda_client: Any = None,
    ) -> ApiServices:
        dynamodb = dynamodb_client or boto3.client("dynamodb")
        sfn = sfn_client or boto3.client("stepfunctions")
        workflows = DynamoWorkflowRepository(settings.require("workflows_table"), dynamodb)
        runs = DynamoRunRepository(settings.require("runs_table"), dynamodb)
        node_executions = DynamoNodeExecutionRepository(
            settings.require("node_executions_table"), client=dynamodb
        )
        variants = VariantStateMachines(workflows, sfn, settings, compiler_variants(settings))
        payloads = PayloadStore.from_settings(settings, s3_client)
        run_service = RunService(
            runs,
            workflows,
            node_executions,
            sfn,
            settings,
            payloads=payloads,
            variants=variants,
        )
        human_loop = None
        if settings.reviews_table:
            human_loop = HumanLoopServices.from_settings(
                settings,
                runs=runs,
                workflows=workflows,
                node_executions=node_executions,
                run_service=run_service,
                variants=variants,
                dynamodb_client=dynamodb,
                sfn_client=sfn,
                lambda_client=lambda_client or boto3.client("lambda"),
                resolve=lambda tenant_id, value: payloads.resolve(
                    value, tenant_id=tenant_id, missing="keep"
                ),
            )
        return cls(
            workflows=WorkflowService(workflows, sfn, settings),
            runs=run_service,
            human_loop=human_loop,
            security=SecurityServices.from_settings(
                settings,
                runs=runs,
                workflows=workflows,
                dynamodb_client=dynamodb,
                secrets_client=secrets_client,
            ),
        )


def build_app(services: ApiServices) -> APIGatewayRestResolver:
    security = services.security
    gate = (
        security.gate
        if security is not None
        else RequestGate(max_request_bytes=10 << 20, limiter=None)
    )
    app = SignoffResolver(gate, enable_validation=True)
    app.configure_openapi(
        title=API_TITLE,
        version=signoff.__version__,
        description=API_DESCRIPTION,
        security_schemes={
            "apiKey": HTTPBearer(description="An API key (sk_...) or a token from POST /tokens")
        },
        security=[{"apiKey": []}],
    )
    register_error_handlers(app)
    app.include_router(health_router())
    app.include_router(workflows_router(services.workflows))
    human_loop = services.human_loop
    app.include_router(
        runs_router(
            services.runs,
            security.idempotency if security is not None else None,
            history=human_loop.history if human_loop is not None else None,
        )
    )
    if human_loop is not None:
        app.include_router(reviews_router(human_loop, services.runs))
    if security is not None:
        security.install(app)
    register_docs(app)
    return app
