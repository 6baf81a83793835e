"""The human-in-the-loop services the api function uses, built from its settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from signoff.events.lifecycle import RunLifecycle
from signoff.reviews.cancel import RunCanceller
from signoff.reviews.debug import NodeDebugService
from signoff.reviews.decisions import ReviewService
from signoff.reviews.forms import HumanInputForms
from signoff.reviews.history import RunHistory
from signoff.reviews.retry import RetryService
from signoff.reviews.variables import VariablesService
from signoff.reviews.variants import VariantStateMachines
from signoff.runs.service import RunService
from signoff.settings import Settings
from signoff.store.node_executions import DynamoNodeExecutionRepository
from signoff.store.reviews import DynamoReviewRepository
from signoff.store.runs import RunRepository
from signoff.store.workflows import WorkflowRepository


@dataclass(frozen=True)
class HumanLoopServices:
    reviews: ReviewService
    variables: VariablesService
    history: RunHistory
    canceller: RunCanceller
    retries: RetryService
    debug: NodeDebugService
    # Human-input forms by their form token (native /forms and Dify /v1/form routes).
    forms: HumanInputForms

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        runs: RunRepository,
        workflows: WorkflowRepository,
        node_executions: DynamoNodeExecutionRepository,
        run_service: RunService,
        variants: VariantStateMachines,
        dynamodb_client: Any,
        sfn_client: Any,
        lambda_client: Any,
        resolve: Callable[[str, Any], Any] | None = None,
        events: RunLifecycle | None = None,
    ) -> HumanLoopServices:
        reviews = DynamoReviewRepository(settings.require("reviews_table"), dynamodb_client)
        review_service = ReviewService(reviews, runs, sfn_client, events=events)
        variables = VariablesService(runs, workflows, node_executions, reviews)
        return cls(
            reviews=review_service,
            variables=variables,
            history=RunHistory(runs, node_executions, reviews, resolve=resolve),
            canceller=RunCanceller(runs, review_service, sfn_client, run_service, events=events),
            retries=RetryService(
                runs, workflows, node_executions, variables, variants, run_service
            ),
            debug=NodeDebugService(
                workflows,
                node_executions,
                lambda_client,
                settings.require("node_function_arn"),
            ),
            forms=HumanInputForms(reviews, runs, review_service),
        )
