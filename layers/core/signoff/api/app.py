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
from signoff.api.routes.agno import agno_router
from signoff.api.routes.dify_app import dify_app_router
from signoff.api.routes.docs import register_docs
from signoff.api.routes.event_replay import event_replay_router
from signoff.api.routes.events import events_router
from signoff.api.routes.health import health_router
from signoff.api.routes.reviews import reviews_router
from signoff.api.routes.runs import runs_router
from signoff.api.routes.secrets import secrets_router
from signoff.api.routes.webhooks import webhooks_router
from signoff.api.routes.workflows import workflows_router
from signoff.api.security import SecurityServices
from signoff.difyapi.agno import AgnoWorkflowService
from signoff.difyapi.service import DifyAppService
from signoff.difyapi.sessions import DynamoSessionStore
from signoff.difyapi.uploads import UploadStore
from signoff.events.emitter import emitter_from_settings
from signoff.events.lifecycle import RunLifecycle
from signoff.payloads import PayloadStore
from signoff.reviews.services import HumanLoopServices
from signoff.reviews.variants import VariantStateMachines, compiler_variants
from signoff.runs.service import RunService
from signoff.settings import Settings
from signoff.store.node_executions import DynamoNodeExecutionRepository
from signoff.store.run_events import DynamoRunEventLog, RunEventLog
from signoff.store.runs import DynamoRunRepository
from signoff.store.workflow_secrets import SecretsManagerWorkflowSecrets
from signoff.store.workflows import DynamoWorkflowRepository
from signoff.webhooks.subscriptions import WebhookService
from signoff.workflows.secrets import WorkflowSecretsService
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
    # Dify's /v1 routes and Agno's workflow API (signoff/difyapi).
    dify: DifyAppService | None = field(default=None)
    agno: AgnoWorkflowService | None = field(default=None)
    # Webhook subscriptions and their deliveries (signoff/webhooks).
    webhooks: WebhookService | None = field(default=None)
    # The run event log, read by GET /runs/{run_id}/events where it cannot stream.
    event_log: RunEventLog | None = field(default=None)
    # Secret environment variables' values (signoff/workflows/secrets.py).
    secrets: WorkflowSecretsService | None = field(default=None)

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
        # Lifecycle events (signoff/events): none when the function has no event table.
        events = RunLifecycle(emitter_from_settings(settings, dynamodb=dynamodb))
        run_service = RunService(
            runs,
            workflows,
            node_executions,
            sfn,
            settings,
            payloads=payloads,
            variants=variants,
            events=events,
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
                events=events,
            )
        dify = DifyAppService(
            run_service,
            runs,
            workflows,
            node_executions,
            UploadStore(settings.payloads_bucket, s3_client),
            stopper=human_loop.canceller if human_loop is not None else None,
            forms=human_loop.forms if human_loop is not None else None,
        )
        agno = AgnoWorkflowService(
            run_service,
            runs,
            workflows,
            node_executions,
            sessions=(
                DynamoSessionStore(settings.workflow_sessions_table, dynamodb)
                if settings.workflow_sessions_table
                else None
            ),
            stopper=human_loop.canceller if human_loop is not None else None,
        )
        webhooks = (
            WebhookService.from_settings(settings, dynamodb)
            if settings.webhooks_table and settings.webhook_deliveries_table
            else None
        )
        secrets = (
            WorkflowSecretsService(
                workflows,
                SecretsManagerWorkflowSecrets(settings.workflow_secrets_prefix, secrets_client),
            )
            if settings.workflow_secrets_prefix
            else None
        )
        return cls(
            secrets=secrets,
            event_log=(
                DynamoRunEventLog(settings.run_events_table, dynamodb)
                if settings.run_events_table
                else None
            ),
            webhooks=webhooks,
            dify=dify,
            agno=agno,
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
    app.include_router(events_router())
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
        app.include_router(
            reviews_router(
                human_loop,
                services.runs,
                security.idempotency if security is not None else None,
            )
        )
    if security is not None:
        security.install(app)
    if services.dify is not None:
        app.include_router(dify_app_router(services.dify))
    if services.agno is not None:
        app.include_router(agno_router(services.agno))
    app.include_router(
        webhooks_router(services.webhooks, security.idempotency if security is not None else None)
    )
    app.include_router(secrets_router(services.secrets))
    # The streaming routes, replayed (API Gateway sends them to the streaming function).
    app.include_router(event_replay_router(services.runs, services.event_log, services.dify))
    register_docs(app)
    return app
