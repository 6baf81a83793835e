"""Deciding a review: exactly once, then Step Functions hears it through the task token.

The conditional write pending -> decided is the only gate: of two racing decisions one wins, the
other gets 409 (ReviewClosed) and changes nothing, and only the winner calls SendTaskSuccess. The
output the state machine receives (docs/internals.md, "Reviews"):

    {"action": "approve" | "revise" | "edit" | "submit", "feedback": str | null,
     "outputs": {...} | null, "patch": {"<node id>": {...}}, "action_id": str | null,
     "inputs": {...} | null}
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError
from pydantic import BaseModel

from signoff.errors import InvalidInput, NotFound, SignoffError
from signoff.events.lifecycle import RunLifecycle
from signoff.reviews.form_content import check_submission
from signoff.reviews.waits import close_wait, utc_now
from signoff.store.node_executions import format_time
from signoff.store.reviews import (
    Decision,
    ReviewAction,
    ReviewClosed,
    ReviewKind,
    ReviewRecord,
    ReviewRepository,
    ReviewStatus,
)
from signoff.store.runs import RunRepository

logger = Logger(child=True)

# What Step Functions answers for a token it no longer waits on: the wait timed out, the
# execution ended (stopped, failed), or the token was never one of its own.
_TOKEN_GONE = frozenset({"TaskTimedOut", "InvalidToken", "TaskDoesNotExist"})


class DecisionNotDelivered(SignoffError):
    """Step Functions could not be told (throttled, unavailable): the review is pending again."""

    status = 503
    code = "decision_not_delivered"


class DecisionRequest(BaseModel):
    """A decision as a client sends it: `action`, or the seed's `satisfied` (true: approve;
    false: revise with the feedback)."""

    action: ReviewAction | None = None
    satisfied: bool | None = None
    feedback: str | None = None
    outputs: dict[str, Any] | None = None
    action_id: str | None = None
    inputs: dict[str, Any] | None = None

    def resolved_action(self) -> ReviewAction:
        if self.action is not None:
            if self.satisfied is not None and (self.satisfied != (self.action is _APPROVE)):
                raise InvalidInput(
                    f"satisfied={str(self.satisfied).lower()} contradicts action "
                    f"{self.action.value}",
                    field="satisfied",
                )
            return self.action
        if self.satisfied is not None:
            return ReviewAction.APPROVE if self.satisfied else ReviewAction.REVISE
        if self.action_id is not None or self.inputs is not None:
            return ReviewAction.SUBMIT
        raise InvalidInput(
            "say what you decide: action (approve, revise, edit, submit) or satisfied",
            field="action",
        )


_APPROVE = ReviewAction.APPROVE
_ACTIONS_BY_KIND = {
    ReviewKind.REVIEW: (ReviewAction.APPROVE, ReviewAction.REVISE, ReviewAction.EDIT),
    ReviewKind.STEP: (ReviewAction.APPROVE, ReviewAction.EDIT),
    ReviewKind.HUMAN_INPUT: (ReviewAction.SUBMIT,),
}


class ReviewService:
    def __init__(
        self,
        reviews: ReviewRepository,
        runs: RunRepository,
        sfn_client: Any,
        *,
        clock: Callable[[], datetime] = utc_now,
        events: RunLifecycle | None = None,
    ) -> None:
        self._reviews = reviews
        self._runs = runs
        self._sfn = sfn_client
        self._clock = clock
        self._events = events or RunLifecycle()

    def list(
        self, tenant_id: str, run_id: str, status: ReviewStatus | None = None
    ) -> list[ReviewRecord]:
        # The run lookup is the tenant check: another tenant's run is NotFound here.
        self._runs.get(tenant_id, run_id)
        reviews = self._reviews.list_for_run(tenant_id, run_id)
        return [review for review in reviews if status is None or review.status is status]

    def get(self, tenant_id: str, run_id: str, review_id: str) -> ReviewRecord:
        self._runs.get(tenant_id, run_id)
        return self._reviews.get(tenant_id, run_id, review_id)

    def decide(
        self,
        tenant_id: str,
        run_id: str,
        review_id: str,
        request: DecisionRequest,
        *,
        decided_by: str,
    ) -> ReviewRecord:
        review = self.get(tenant_id, run_id, review_id)
        return self._decide(review, request, decided_by)

    def confirm_node(
        self,
        tenant_id: str,
        run_id: str,
        node_id: str,
        *,
        satisfied: bool,
        feedback: str | None,
        decided_by: str,
    ) -> ReviewRecord:
        """The seed's POST /node-confirmation: decide the node's pending review."""
        of_node = [review for review in self.list(tenant_id, run_id) if review.node_id == node_id]
        if not of_node:
            raise NotFound(f"run {run_id} has no review of node {node_id}")
        pending = [review for review in of_node if review.is_pending]
        review = pending[-1] if pending else of_node[-1]
        request = DecisionRequest(satisfied=satisfied, feedback=feedback)
        return self._decide(review, request, decided_by)

    def cancel_open(self, tenant_id: str, run_id: str) -> list[ReviewRecord]:
        """Close every pending review of a run that was stopped; answers the ones closed."""
        closed: list[ReviewRecord] = []
        now = format_time(self._clock())
        for review in self._reviews.list_for_run(tenant_id, run_id):
            if not review.is_pending:
                continue
            try:
                closed.append(self._reviews.close(review, ReviewStatus.CANCELLED, now))
            except ReviewClosed:
                continue  # decided a moment before the cancel: its token is refused anyway
        return closed

    # ------------------------------------------------------------------ deciding

    def _decide(
        self, review: ReviewRecord, request: DecisionRequest, decided_by: str
    ) -> ReviewRecord:
        action = request.resolved_action()
        decision = self._decision(review, request, action, decided_by)
        if not review.is_pending:
            raise ReviewClosed(review)
        decided = self._reviews.decide(review, decision)  # ReviewClosed when it lost a race
        run = self._runs.get(review.tenant_id, review.run_id)
        # The edits this wait can apply (those of its own item, inside an iteration).
        delivered = deliverable_patch(decided, run.pending_patch or {}, run.variable_edits)
        patch = {node_id: outputs for node_id, (_, outputs) in delivered.items()}
        # Before Step Functions hears it: once it does, the run may pause again at once. The
        # run resumes only when this was its last pending wait.
        resumed = close_wait(self._reviews, self._runs, decided)
        # The decision's events too, so they come before the events of what runs next.
        self._events.review_decided(decided, workflow_id=run.workflow_id, resumed=resumed)
        try:
            self._sfn.send_task_success(
                taskToken=decided.task_token, output=json.dumps(task_output(decided, patch))
            )
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in _TOKEN_GONE:
                expired = self._reviews.expire_decided(decided, format_time(self._clock()))
                raise ReviewClosed(
                    expired,
                    f"review {review.review_id} has expired: the run no longer waits on it "
                    f"({code})",
                ) from error
            self._undo(decided)
            self._events.run_paused(decided, workflow_id=run.workflow_id)
            logger.exception("SendTaskSuccess failed", extra={"review_id": review.review_id})
            raise DecisionNotDelivered(
                f"the decision on review {review.review_id} could not be delivered; try again"
            ) from error
        if patch:
            self._runs.clear_variable_patch(run, [key for key, _ in delivered.values()])
            decided = self._reviews.record_patch(decided, patch)
        logger.info(
            "review decided",
            extra={"review_id": review.review_id, "action": action.value, "by": decided_by},
        )
        return decided

    def _decision(
        self,
        review: ReviewRecord,
        request: DecisionRequest,
        action: ReviewAction,
        decided_by: str,
    ) -> Decision:
        allowed = _ACTIONS_BY_KIND[review.kind]
        if action not in allowed:
            names = ", ".join(choice.value for choice in allowed)
            raise InvalidInput(
                f"a {review.kind.value} is decided with {names}, not {action.value}",
                field="action",
            )
        feedback = request.feedback.strip() if request.feedback else None
        if action is ReviewAction.REVISE and not feedback:
            raise InvalidInput("revise needs feedback: what should change", field="feedback")
        if action is ReviewAction.EDIT and request.outputs is None:
            raise InvalidInput("edit needs the edited outputs", field="outputs")
        submitted = None
        if action is ReviewAction.SUBMIT:
            # Every field of the form, checked against it (signoff.reviews.form_content).
            submitted = check_submission(review.settings, request.action_id, request.inputs or {})
        return Decision(
            action=action,
            feedback=feedback,
            edited_outputs=request.outputs if action is ReviewAction.EDIT else None,
            action_id=request.action_id if action is ReviewAction.SUBMIT else None,
            inputs=submitted,
            decided_by=decided_by,
            decided_at=format_time(self._clock()),
        )

    def _undo(self, decided: ReviewRecord) -> None:
        """Step Functions never heard the decision: make the review pending again (and the run
        paused), so the decision can be sent again."""
        try:
            self._reviews.reopen(decided)
        except ReviewClosed:
            return
        self._runs.open_wait(decided.tenant_id, decided.run_id, decided.review_id)


# A PATCH of a node inside iterations or loops names its item with this field
# (reviews/variables.py).
ITEM_FIELD = "__item"
# An item edit's record in the run's variable_edits also names the containers its indexes count
# in, outermost first.
CONTAINERS_FIELD = "containers"


def item_patch_key(node_id: str, indexes: Sequence[int]) -> str:
    """The pending patch's key of an edit of a node in one item or round: `<node>@<i>.<j>`,
    the indexes of the containers around it, outermost first (node ids hold no `@`)."""
    return f"{node_id}@{'.'.join(str(index) for index in indexes)}"


def deliverable_patch(
    review: ReviewRecord,
    pending: dict[str, Any],
    edits: Sequence[dict[str, Any]] = (),
) -> dict[str, tuple[str, Any]]:
    """The pending edits a decision on `review` sends (node id -> (patch key, outputs)): edits
    of its own item or round (keys `<node>@<indexes>` equal to its index path's indexes, in the
    same containers, as the run's recorded `edits` name them), and plain edits unless it waits
    inside an iteration's item, whose states cannot assign the variables outside the item (those
    edits wait for a decision outside any item)."""
    path = review.index_path or []
    indexes = ".".join(str(step.index) for step in path)
    containers = [step.container_id for step in path]
    in_item = review.item_index is not None
    edited_in = _edited_containers(edits)
    found: dict[str, tuple[str, Any]] = {}
    for key, outputs in pending.items():
        node_id, at, where = key.partition("@")
        own_item = (
            bool(at)
            and bool(indexes)
            and where == indexes
            and edited_in.get(key, containers) == containers
        )
        plain = not at and not in_item and node_id not in found
        if own_item or plain:
            found[node_id] = (key, outputs)
    return found


def _edited_containers(edits: Sequence[dict[str, Any]]) -> dict[str, list[str]]:
    """Item edit key -> the containers its indexes count in (the latest edit's; edits recorded
    before containers were kept name none and match by indexes alone)."""
    found: dict[str, list[str]] = {}
    for edit in edits:
        indexes = edit.get(ITEM_FIELD)
        containers = edit.get(CONTAINERS_FIELD)
        if isinstance(indexes, list) and isinstance(containers, list):
            found[item_patch_key(str(edit.get("node_id")), indexes)] = containers
    return found


def task_output(review: ReviewRecord, patch: dict[str, Any]) -> dict[str, Any]:
    """What the state machine's wait receives for a decided review."""
    return {
        "action": review.decision.value if review.decision else None,
        "feedback": review.feedback,
        "outputs": review.edited_outputs,
        "patch": patch,
        "action_id": review.action_id,
        "inputs": review.inputs,
    }
