"""Human in the loop over HTTP: reviews and their decisions, a paused run's variables, cancel,
retry from a node, and single-node runs."""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path, Query

from signoff.api.idempotency import HEADER as IDEMPOTENCY_HEADER
from signoff.api.idempotency import IdempotentRequests, StoredResponse
from signoff.api.models import ErrorBody, RunView
from signoff.api.principal import CurrentPrincipal
from signoff.api.review_models import (
    DebugRunList,
    DebugRunView,
    FormSubmitBody,
    FormView,
    IndexStepView,
    ItemOutputsView,
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
from signoff.api.routes.runs import replay, run_view
from signoff.auth.principal import APP, TOKEN, Principal
from signoff.errors import Forbidden, IdempotencyKeyReused
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


def reviews_router(
    services: HumanLoopServices,
    runs: RunService,
    idempotency: IdempotentRequests | None = None,
) -> Router:
    router = Router()
    requests_once = idempotency or IdempotentRequests(None)

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
        shown = _shows_form_token(principal)
        return ReviewList(data=[ReviewView.of(review, show_form_token=shown) for review in reviews])

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
        review = services.reviews.get(principal.tenant_id, run_id, review_id)
        return ReviewView.of(review, show_form_token=_shows_form_token(principal))

    @router.post(
        "/runs/<run_id>/reviews/<review_id>",
        summary="Decide a review: approve, revise with feedback, edit the outputs, or submit",
        description="Exactly once: a second decision, or one on a review that timed out, expired "
        "or was cancelled, gets 409 and changes nothing. Variable edits made while the run was "
        "paused are sent with the decision. A human-input form is submitted with "
        '{"action": "submit", "action_id", "inputs"}. A reviewer token (runs:<run>:reviews) '
        "makes one decision: sent again with the same decision it answers the first response, "
        "with another it is refused (403).",
        tags=["reviews"],
        responses={
            200: {
                "description": "The decided review",
                "content": {"application/json": {"model": ReviewView}},
            },
            400: {"description": "The decision does not fit the review", "content": _ERROR},
            403: {"description": "This reviewer token has made its decision", "content": _ERROR},
            404: _NOT_FOUND,
            409: _CONFLICT_DECIDED,
            422: {
                "description": "The Idempotency-Key was used for another request",
                "content": _ERROR,
            },
        },
    )
    def decide_review(
        principal: CurrentPrincipal,
        run_id: Annotated[str, Path()],
        review_id: Annotated[str, Path()],
        body: Annotated[ReviewDecisionBody, Body(embed=False)],
        idempotency_key: Annotated[
            str | None,
            Header(
                alias=IDEMPOTENCY_HEADER,
                description="Send the same key again (with the same body) to get the first "
                "answer instead of a second decision; remembered 24 hours.",
            ),
        ] = None,
    ) -> Response[ReviewView]:
        request = {"run_id": run_id, "review_id": review_id, "body": body.model_dump(mode="json")}

        def decide() -> StoredResponse:
            decided = services.reviews.decide(
                principal.tenant_id,
                run_id,
                review_id,
                DecisionRequest.model_validate(body.model_dump()),
                decided_by=principal.actor,
            )
            view = ReviewView.of(decided, show_form_token=_shows_form_token(principal))
            return StoredResponse(HTTPStatus.OK, view.model_dump(mode="json"))

        def decide_with_key() -> StoredResponse:
            return requests_once.run(
                tenant_id=principal.tenant_id,
                operation="POST /runs/{run_id}/reviews/{review_id}",
                key=idempotency_key,
                request=request,
                action=decide,
                lambda_context=router.lambda_context,
            )

        if principal.role == TOKEN and principal.token_id:
            answer = _once_per_token(requests_once, principal, request, decide_with_key, router)
        else:
            answer = decide_with_key()
        return replay(answer)

    @router.get(
        "/forms/<form_token>",
        summary="A human-input form by its form token, with its status",
        description="The form a human-input node waits on: form_content rendered from the run's "
        "variables, its inputs, user actions and expiration. A key of the form's tenant (an app "
        "key: of its workflow) may read it.",
        tags=["reviews"],
        responses={
            200: {"description": "The form"},
            403: {"description": "An app key of another workflow", "content": _ERROR},
            404: {"description": "No such form", "content": _ERROR},
        },
    )
    def get_form(principal: CurrentPrincipal, form_token: Annotated[str, Path()]) -> FormView:
        form = services.forms.find(form_token, tenant_id=principal.tenant_id)
        _check_form_reach(principal, form.workflow_id)
        return FormView.of(form)

    @router.post(
        "/forms/<form_token>",
        summary="Submit a human-input form: the values and the user action pressed",
        description="Exactly once: a second submission gets 409 human_input_form_submitted, a "
        "form whose time ran out or whose run stopped 409 human_input_form_expired.",
        tags=["reviews"],
        responses={
            200: {"description": "The submitted form"},
            400: {"description": "The values do not fit the form", "content": _ERROR},
            403: {"description": "An app key of another workflow", "content": _ERROR},
            404: {"description": "No such form", "content": _ERROR},
            409: {"description": "Submitted already, or expired", "content": _ERROR},
        },
    )
    def submit_form(
        principal: CurrentPrincipal,
        form_token: Annotated[str, Path()],
        body: Annotated[FormSubmitBody, Body(embed=False)],
    ) -> FormView:
        form = services.forms.find(form_token, tenant_id=principal.tenant_id)
        _check_form_reach(principal, form.workflow_id)
        submitted = services.forms.submit(
            form_token,
            inputs=body.inputs,
            action=body.action_id,
            user=body.user or principal.actor,
            tenant_id=principal.tenant_id,
        )
        return FormView.of(submitted)

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


def _check_form_reach(principal: Principal, workflow_id: str) -> None:
    if principal.role == APP and principal.workflow_id != workflow_id:
        raise Forbidden(f"this app key acts for workflow {principal.workflow_id} only")


def _shows_form_token(principal: Principal) -> bool:
    """A form token is a capability, like a reviewer link: keys of the tenant (admin, or an app
    key of the run's workflow, whose Dify clients get it in the stream anyway) see it; a token's
    holder decides through the API in their own name and does not."""
    return principal.role != TOKEN


def _once_per_token(
    requests_once: IdempotentRequests,
    principal: Principal,
    request: dict[str, Any],
    decide: Any,
    router: Router,
) -> StoredResponse:
    """A reviewer token makes one decision: its token id is the idempotency key of every
    decision made with it, so the same decision sent again answers the first response and
    another decision is refused. A decision that fails leaves the token unused."""
    try:
        return requests_once.run(
            tenant_id=principal.tenant_id,
            operation="reviewer token decision",
            key=principal.token_id,
            request=request,
            action=decide,
            lambda_context=router.lambda_context,
        )
    except IdempotencyKeyReused as reused:
        raise Forbidden(
            f"reviewer token {principal.token_id} has made its decision already: a reviewer link "
            "decides once; ask for a new one"
        ) from reused


def _variables_view(variables: RunVariables) -> RunVariablesView:
    run = variables.run
    return RunVariablesView(
        run_id=run.run_id,
        status=run.status.value,
        variables=variables.variables,
        items={
            node_id: [
                ItemOutputsView(
                    index_path=[IndexStepView(**step.model_dump()) for step in item.index_path],
                    outputs=item.outputs,
                    pending=item.pending,
                )
                for item in items
            ]
            for node_id, items in variables.items.items()
        },
        pending_patch=variables.pending_patch,
        edits=[VariableEdit.model_validate(edit) for edit in run.variable_edits],
    )
