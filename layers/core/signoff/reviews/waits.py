"""The review function's side of a wait (docs/internals.md, "Reviews").

A compiled state machine waits on a person with a `lambda:invoke.waitForTaskToken` Task on the
review function. Action "request" stores the review, pending with the task token, and pauses the
run; the Task keeps waiting until the API sends the decision with that token. When the wait's
TimeoutSeconds passes, the state machine's Catch invokes action "expire", which closes the review
as timed out and lets the run go on.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from aws_lambda_powertools import Logger
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from signoff.errors import SignoffError
from signoff.events.lifecycle import RunLifecycle
from signoff.reviews.form_content import new_form_token, render_form, requested_form
from signoff.store.node_executions import format_time
from signoff.store.reviews import (
    IndexStep,
    ReviewClosed,
    ReviewKind,
    ReviewRecord,
    ReviewRepository,
    ReviewStatus,
    new_review_id,
    place_of,
)
from signoff.store.runs import RunRepository, RunStatus

logger = Logger(child=True)

Clock = Callable[[], datetime]
_TIMEOUT_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


class InvalidReviewEvent(SignoffError):
    """The review function's event is malformed (a state machine compiled against another
    contract); its class name is the error type Step Functions sees."""

    status = 400
    code = "invalid_review_event"


class RunRef(BaseModel):
    """The execution's `$run`; only the keys are needed here."""

    model_config = ConfigDict(extra="allow")

    run_id: str = Field(min_length=1)
    tenant_id: str = Field(min_length=1)
    workflow_id: str = ""


class NodeRef(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str = Field(min_length=1)
    type: str = ""
    title: str | None = None


class WaitScope(BaseModel):
    """Where a wait inside iterations and loops happens (the compiler's `scope`): the innermost
    iteration and loop with their indexes, and every container around it, outermost first."""

    model_config = ConfigDict(extra="ignore")

    iteration_id: str | None = None
    iteration_index: int | None = Field(default=None, ge=0)
    loop_id: str | None = None
    loop_index: int | None = Field(default=None, ge=0)
    path: list[IndexStep] = Field(default_factory=list)

    @property
    def container_id(self) -> str | None:
        return self.path[-1].container_id if self.path else None


class ReviewRequest(BaseModel):
    action: Literal["request"]
    run: RunRef
    kind: ReviewKind = ReviewKind.REVIEW
    node: NodeRef
    scope: WaitScope | None = None
    round: int = Field(default=1, ge=1)
    outputs: dict[str, Any] | None = None
    settings: dict[str, Any] | None = None
    # human-input: the variables the form's text and defaults name (node id -> outputs).
    variables: dict[str, Any] | None = None
    task_token: str = Field(min_length=1)


class ReviewExpiry(BaseModel):
    action: Literal["expire"]
    run: RunRef
    node: NodeRef
    scope: WaitScope | None = None
    round: int = Field(default=1, ge=1)
    kind: ReviewKind | None = None


ReviewEvent = Annotated[ReviewRequest | ReviewExpiry, Field(discriminator="action")]
_review_event = TypeAdapter(ReviewEvent)


def utc_now() -> datetime:
    return datetime.now(UTC)


def wait_timeout_seconds(settings: dict[str, Any]) -> float | None:
    """How long a wait lasts, from its settings: `timeout` in seconds, or in `timeout_unit`
    (second, minute, hour, day; Dify's human-input node counts in hours or days)."""
    timeout = settings.get("timeout")
    if settings.get("timeout_seconds") is not None:  # a human-input form's, already in seconds
        timeout, settings = settings["timeout_seconds"], {}
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        return None
    unit = str(settings.get("timeout_unit") or "second").rstrip("s")
    return float(timeout) * _TIMEOUT_UNITS.get(unit, 1)


def resume_unless_waiting(
    reviews: ReviewRepository, runs: RunRepository, tenant_id: str, run_id: str
) -> bool:
    """paused -> running, unless another of the run's reviews is still pending. For runs that
    paused before their waits were counted (`close_wait`); answers whether it resumed the run."""
    if any(review.is_pending for review in reviews.list_for_run(tenant_id, run_id)):
        return False
    was_paused = runs.get(tenant_id, run_id).status is RunStatus.PAUSED
    return was_paused and runs.mark_resumed(tenant_id, run_id).status is RunStatus.RUNNING


def close_wait(reviews: ReviewRepository, runs: RunRepository, review: ReviewRecord) -> bool:
    """A review left pending: it leaves the run's pending reviews, and the run goes back to
    running when it was the last (one conditional write: store/runs.py `close_wait`). Answers
    whether this call resumed the run (for its run.resumed event)."""
    closed = runs.close_wait(review.tenant_id, review.run_id, review.review_id)
    if not closed.tracked:
        return resume_unless_waiting(reviews, runs, review.tenant_id, review.run_id)
    return closed.resumed


class ReviewWaits:
    """What the review function does."""

    def __init__(
        self,
        reviews: ReviewRepository,
        runs: RunRepository,
        *,
        clock: Clock = utc_now,
        events: RunLifecycle | None = None,
    ) -> None:
        self._reviews = reviews
        self._runs = runs
        self._clock = clock
        self._events = events or RunLifecycle()

    def handle(self, event: dict[str, Any]) -> dict[str, Any]:
        try:
            parsed = _review_event.validate_python(event)
        except ValidationError as error:
            problem = error.errors()[0]
            location = ".".join(str(part) for part in problem["loc"]) or "event"
            raise InvalidReviewEvent(
                f"the review event is malformed: {location}: {problem['msg']}"
            ) from error
        if isinstance(parsed, ReviewRequest):
            return self.request(parsed)
        return self.expire(parsed)

    def request(self, request: ReviewRequest) -> dict[str, Any]:
        """Store the review (pending, with its token) and pause the run; answer at once."""
        tenant_id, run_id = request.run.tenant_id, request.run.run_id
        renewed = self._renewed(request)
        review = renewed or self._created(request)
        # Counted on the run (again, harmlessly, for a renewed one: a request retried after
        # storing its review and before this write still pauses the run).
        keys = wait_keys(request.node.id, request.round, request.scope, request.kind)
        run = self._runs.open_wait(tenant_id, run_id, review.review_id, wait_keys=keys)
        if run.expired_waits.intersection(keys):
            # Step Functions timed the wait out before this request got here (a short timeout
            # and a slow start): the run has gone on, and nobody may decide this review.
            review = self._close_quietly(review, ReviewStatus.TIMED_OUT)
        elif run.status.is_terminal:
            # The run was cancelled (or ended) as its wait began: nobody may decide this review.
            review = self._close_quietly(review, ReviewStatus.CANCELLED)
        elif renewed is None:
            # A renewed review is the same wait asked again: its events were emitted already.
            self._events.review_requested(
                review, workflow_id=run.workflow_id, form=requested_form(review)
            )
        logger.info(
            "review requested",
            extra={"run_id": run_id, "review_id": review.review_id, "node_id": review.node_id},
        )
        return {"review_id": review.review_id, "status": review.status.value}

    def expire(self, expiry: ReviewExpiry) -> dict[str, Any]:
        """The wait timed out: its pending review becomes timed_out and the run goes on."""
        tenant_id, run_id = expiry.run.tenant_id, expiry.run.run_id
        # First, so that a request still on the way finds it (and a stored one is found below).
        self._runs.mark_wait_expired(
            tenant_id, run_id, wait_keys(expiry.node.id, expiry.round, expiry.scope, expiry.kind)[0]
        )
        matching = [
            review
            for review in self._reviews.list_for_run(tenant_id, run_id)
            if review.node_id == expiry.node.id
            and review.round == expiry.round
            and review.place == _place(expiry.scope)
            and (expiry.kind is None or review.kind is expiry.kind)
        ]
        pending = [review for review in matching if review.is_pending]
        review = pending[-1] if pending else (matching[-1] if matching else None)
        timed_out = review is not None and review.is_pending
        if review is not None and review.is_pending:
            review = self._close_quietly(review, ReviewStatus.TIMED_OUT)
            # Decided a moment before instead: that decision moved the run.
            timed_out = review.status is ReviewStatus.TIMED_OUT
        if review is None:
            resumed = resume_unless_waiting(self._reviews, self._runs, tenant_id, run_id)
        else:
            # Also when it was decided a moment before (its decision may not have closed the
            # wait yet) or the expiry is asked again: closing a closed wait changes nothing.
            resumed = close_wait(self._reviews, self._runs, review)
        if timed_out and review is not None:
            self._events.review_timed_out(
                review, workflow_id=expiry.run.workflow_id, resumed=resumed
            )
        if review is None:
            logger.warning(
                "a wait expired with no review on record",
                extra={"run_id": run_id, "node_id": expiry.node.id, "round": expiry.round},
            )
            return {"review_id": None, "status": ReviewStatus.TIMED_OUT.value}
        return {"review_id": review.review_id, "status": review.status.value}

    def _renewed(self, request: ReviewRequest) -> ReviewRecord | None:
        """The same wait asked for again (Step Functions retried the Task): the pending review
        keeps its id and takes the new token."""
        for review in reversed(
            self._reviews.list_for_run(request.run.tenant_id, request.run.run_id)
        ):
            if (
                review.is_pending
                and review.node_id == request.node.id
                and review.round == request.round
                and review.place == _place(request.scope)
                and review.kind is request.kind
            ):
                try:
                    return self._reviews.renew_token(review, request.task_token, request.outputs)
                except ReviewClosed:
                    return None
        return None

    def _created(self, request: ReviewRequest) -> ReviewRecord:
        now = self._clock()
        settings = request.settings or {}
        form_token = None
        if request.kind is ReviewKind.HUMAN_INPUT:
            # The form as the person sees it: rendered from the run's variables now.
            run = request.run.model_dump()
            settings = render_form(settings, request.variables or {}, run)
            form_token = new_form_token()
        timeout = wait_timeout_seconds(settings)
        where = request.scope
        return self._reviews.create(
            ReviewRecord(
                tenant_id=request.run.tenant_id,
                run_id=request.run.run_id,
                review_id=new_review_id(now),
                node_id=request.node.id,
                node_type=request.node.type,
                node_title=request.node.title or request.node.id,
                round=request.round,
                kind=request.kind,
                container_id=where.container_id if where else None,
                item_index=where.iteration_index if where else None,
                loop_index=where.loop_index if where else None,
                index_path=list(where.path) if where else None,
                outputs=request.outputs,
                settings=settings,
                task_token=request.task_token,
                form_token=form_token,
                created_at=format_time(now),
                expires_at=format_time(now + timedelta(seconds=timeout)) if timeout else None,
            )
        )

    def _close_quietly(self, review: ReviewRecord, status: ReviewStatus) -> ReviewRecord:
        try:
            return self._reviews.close(review, status, format_time(self._clock()))
        except ReviewClosed as closed:
            # Decided (or closed) a moment before: that outcome stands.
            return closed.review


def wait_keys(
    node_id: str, round_: int, scope: WaitScope | None, kind: ReviewKind | None
) -> list[str]:
    """One wait's keys in a run's `expired_waits`: its own, then the one an expiry naming no
    kind (compiled before waits named theirs) records for it."""
    place = ".".join(f"{container}:{index}" for container, index in _place(scope))
    head = f"{node_id}|{round_}|{place}"
    if kind is None:
        return [f"{head}|*"]
    return [f"{head}|{kind.value}", f"{head}|*"]


def _place(scope: WaitScope | None) -> tuple[tuple[str, int], ...]:
    return place_of(scope.path if scope else None)
