"""The api function's resolver: routers, OpenAPI, Swagger UI and the exception mapping."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

import signoff
from signoff.api.errors import register_error_handlers
from signoff.api.routes.docs import register_docs
from signoff.api.routes.health import health_router
from signoff.api.routes.runs import runs_router
from signoff.api.routes.workflows import workflows_router
from signoff.runs.service import RunService
from signoff.settings import Settings
from signoff.store.node_executions import DynamoNodeExecutionRepository
from signoff.store.runs import DynamoRunRepository
from signoff.store.workflows import DynamoWorkflowRepository
from signoff.workflows.service import WorkflowService

API_TITLE = "signoff"
API_DESCRIPTION = (
    "Run Dify-style workflow graphs as AWS Step Functions state machines. "
    "Authenticate with `Authorization: Bearer <API key>`."
)


@dataclass(frozen=True)
class ApiServices:
    workflows: WorkflowService
    runs: RunService

    @classmethod
    def from_settings(
        cls, settings: Settings, *, dynamodb_client: Any = None, sfn_client: Any = None
    ) -> ApiServices:
        dynamodb = dynamodb_client or boto3.client("dynamodb")
        sfn = sfn_client or boto3.client("stepfunctions")
        workflows = DynamoWorkflowRepository(settings.require("workflows_table"), dynamodb)
        runs = DynamoRunRepository(settings.require("runs_table"), dynamodb)
        node_executions = DynamoNodeExecutionRepository(
            settings.require("node_executions_table"), client=dynamodb
        )
        return cls(
            workflows=WorkflowService(workflows, sfn, settings),
            runs=RunService(runs, workflows, node_executions, sfn, settings),
        )


def build_app(services: ApiServices) -> APIGatewayRestResolver:
    app = APIGatewayRestResolver(enable_validation=True)
    app.configure_openapi(
        title=API_TITLE,
        version=signoff.__version__,
        description=API_DESCRIPTION,
        security_schemes={"apiKey": HTTPBearer(description="An API key: sk_...")},
        security=[{"apiKey": []}],
    )
    register_error_handlers(app)
    app.include_router(health_router())
    app.include_router(workflows_router(services.workflows))
    app.include_router(runs_router(services.runs))
    register_docs(app)
    return app
