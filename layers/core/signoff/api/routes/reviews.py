"""Human in the loop over HTTP: reviews and their decisions, a paused run's variables, cancel,
retry from a node, and single-node runs."""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query

from signoff.api.models import ErrorBody, RunView
from signoff.api.principal import CurrentPrincipal
from signoff.api.review_models import (
    DebugRunList,
    DebugRunView,
    NodeConfirmationBody,
    NodeRunBody,
    RetryAccepted,
    RetryBody,
    ReviewDecisionBody,
    ReviewList,
    ReviewView,
    RunVariablesView,
    VariableEdit,
)
from signoff.api.routes.runs import run_view
from signoff.reviews.decisions import DecisionRequest
from signoff.reviews.services import HumanLoopServices
from signoff.reviews.variables import RunVariables
from signoff.runs.service import RunService
from signoff.store.reviews import ReviewStatus

_ERROR = {"application/json": {"model": ErrorBody}}
_NOT_FOUND = {"description": "No such run (or review, workflow, node)", "content": _ERROR}
_CONFLICT_DECIDED = {
    "description": "The review is already decided, timed out, expired or cancelled",
    "content": _ERROR,
}


def reviews_router(services: HumanLoopServices, runs: RunService) -> Router:
    router = Router()

    @router.get(
        "/runs/<run_id>/reviews",
        summary="The run's reviews: pending and decided, with the outputs shown",
        tags=["reviews"],
        responses={200: {"description": "The reviews, oldest first"}, 404: _NOT_FOUND},
    )
    def list_reviews(
        principal: CurrentPrincipal,
        run_id: Annotated[str, Path()],
        status: Annotated[ReviewStatus | None, Query(description="Only these")] = None,
    ) -> ReviewList:
        reviews = services.reviews.list(principal.tenant_id, run_id, status)
        return ReviewList(data=[ReviewView.of(review) for review in reviews])

    @router.get(
        "/runs/<run_id>/reviews/<review_id>",
        summary="One review of a run",
        tags=["reviews"],
        responses={200: {"description": "The review"}, 404: _NOT_FOUND},
    )
    def get_review(
        principal: CurrentPrincipal,
        run_id: Annotated[str, Path()],
        review_id: Annotated[str, Path()],
    ) -> ReviewView:
        return ReviewView.of(services.reviews.get(principal.tenant_id, run_id, review_id))

    @router.post(
        "/runs/<run_id>/reviews/<review_id>",
        summary="Decide a review: approve, revise with feedback, edit the outputs, or submit",
        description="Exactly once: a second decision, or one on a review that timed out, expired "
        "or was cancelled, gets 409 and changes nothing. Variable edits made while the run was "
        "paused are sent with the decision.",
        tags=["reviews"],
        responses={
            200: {"description": "The decided review"},
            400: {"description": "The decision does not fit the review", "content": _ERROR},
            404: _NOT_FOUND,
            409: _CONFLICT_DECIDED,
        },
    )
    def decide_review(
        principal: CurrentPrincipal,
        run_id: Annotated[str, Path()],
        review_id: Annotated[str, Path()],
        body: Annotated[ReviewDecisionBody, Body(embed=False)],
    ) -> ReviewView:
        decided = services.reviews.decide(
            principal.tenant_id,
            run_id,
            review_id,
            DecisionRequest.model_validate(body.model_dump()),
            decided_by=principal.actor,
        )
        return ReviewView.of(decided)

    @router.post(
        "/node-confirmation",
        summary="Confirm a node's output (the seed's route): satisfied, or not with feedback",
        tags=["reviews"],
        responses={
            200: {"description": "The decided review"},
            400: {"description": "Not satisfied needs feedback", "content": _ERROR},
            404: _NOT_FOUND,
            409: _CONFLICT_DECIDED,
        },
    )
    def confirm_node(
        principal: CurrentPrincipal,
        body: Annotated[NodeConfirmationBody, Body(embed=False)],
    ) -> ReviewView:
        decided = services.reviews.confirm_node(
            principal.tenant_id,
            body.run_id,
            body.node_id,
            satisfied=body.satisfied,
            feedback=body.feedback,
            decided_by=principal.actor,
        )
        return ReviewView.of(decided)

    @router.get(
        "/runs/<run_id>/variables",
        summary="Every node's latest outputs, with the edits not sent yet",
        tags=["reviews"],
        responses={200: {"description": "The variables"}, 404: _NOT_FOUND},
    )
    def get_variables(
        principal: CurrentPrincipal, run_id: Annotated[str, Path()]
    ) -> RunVariablesView:
        return _variables_view(services.variables.get(principal.tenant_id, run_id))

    @router.patch(
        "/runs/<run_id>/variables",
        summary="Change nodes' outputs while the run is paused",
        description='Body: {"<node id>": {"<name>": value}}. Each named node keeps the values '
        "not given. The nodes downstream see the change once the pending review is decided.",
        tags=["reviews"],
        responses={
            200: {"description": "The variables after the change"},
            400: {"description": "Unknown node or not an object", "content": _ERROR},
            404: _NOT_FOUND,
            409: {"description": "The run is not paused", "content": _ERROR},
        },
    )
    def patch_variables(
        principal: CurrentPrincipal,
        run_id: Annotated[str, Path()],
        changes: Annotated[dict[str, dict[str, Any]], Body(embed=False)],
    ) -> RunVariablesView:
        changed = services.variables.patch(
            principal.tenant_id, run_id, changes, edited_by=principal.actor
        )
        return _variables_view(changed)

    @router.post(
        "/runs/<run_id>/cancel",
        summary="Cancel a run: stop its execution and close its open reviews",
        tags=["runs"],
        responses={
            200: {"description": "The stopped run"},
            404: _NOT_FOUND,
            409: {"description": "The run has already ended", "content": _ERROR},
        },
    )
    def cancel_run(principal: CurrentPrincipal, run_id: Annotated[str, Path()]) -> RunView:
        services.canceller.cancel(principal.tenant_id, run_id, cancelled_by=principal.actor)
        return run_view(runs.get(principal.tenant_id, run_id))

    @router.post(
        "/runs/<run_id>/retry",
        summary="Retry a failed or stopped run from one of its nodes",
        description="Starts a new run (linked by retry_of) that begins at from_node_id with the "
        "original run's outputs of the nodes before it, changed by `variables`.",
        tags=["runs"],
        responses={
            201: {
                "description": "The new run has started",
                "content": {"application/json": {"model": RetryAccepted}},
            },
            400: {"description": "Unknown node or bad variables", "content": _ERROR},
            404: _NOT_FOUND,
            409: {"description": "The run is not failed or stopped", "content": _ERROR},
        },
    )
    def retry_run(
        principal: CurrentPrincipal,
        run_id: Annotated[str, Path()],
        body: Annotated[RetryBody, Body(embed=False)],
    ) -> Response[RetryAccepted]:
        run = services.retries.retry(principal.tenant_id, run_id, body.from_node_id, body.variables)
        accepted = RetryAccepted(
            run_id=run.run_id, status=run.status.value, retry_of=run.retry_of or run_id
        )
        return Response(
            status_code=HTTPStatus.CREATED,
            content_type=content_types.APPLICATION_JSON,
            body=accepted.model_dump(mode="json"),
        )

    @router.post(
        "/workflows/<workflow_id>/nodes/<node_id>/run",
        summary="Run one node alone with the given variable values",
        description="Answers its outputs or its error, and its timings; the run is recorded as a "
        "debug run of the node (GET .../runs).",
        tags=["workflows"],
        responses={
            200: {"description": "The node's outputs or error"},
            400: {"description": "Bad inputs, or a node that cannot run alone", "content": _ERROR},
            404: _NOT_FOUND,
        },
    )
    def run_node(
        principal: CurrentPrincipal,
        workflow_id: Annotated[str, Path()],
        node_id: Annotated[str, Path()],
        body: Annotated[NodeRunBody, Body(embed=False)],
    ) -> DebugRunView:
        debug_run = services.debug.run(
            principal.tenant_id, workflow_id, node_id, body.inputs, user=body.user
        )
        return DebugRunView.of(debug_run)

    @router.get(
        "/workflows/<workflow_id>/nodes/<node_id>/runs",
        summary="The node's single-node runs, newest first",
        tags=["workflows"],
        responses={200: {"description": "The debug runs"}, 404: _NOT_FOUND},
    )
    def list_node_runs(
        principal: CurrentPrincipal,
        workflow_id: Annotated[str, Path()],
        node_id: Annotated[str, Path()],
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
    ) -> DebugRunList:
        debug_runs = services.debug.list(principal.tenant_id, workflow_id, node_id, limit=limit)
        return DebugRunList(data=[DebugRunView.of(debug_run) for debug_run in debug_runs])

    return router


def _variables_view(variables: RunVariables) -> RunVariablesView:
    run = variables.run
    return RunVariablesView(
        run_id=run.run_id,
        status=run.status.value,
        variables=variables.variables,
        pending_patch=variables.pending_patch,
        edits=[VariableEdit.model_validate(edit) for edit in run.variable_edits],
    )
