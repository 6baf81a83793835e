"""Human-input forms by their form token: read one, submit one, exactly once.

A human-input node waits as a review of kind "human-input" (signoff.reviews.waits); its review
holds the rendered form in `settings` and a `form_token`, the capability a person's link or a
Dify client carries (Dify: GET/POST /v1/form/human_input/{form_token}). The token finds its
review with one query on the Reviews table's index `by_form_token`.

A submission is a review decision (`submit`), so it is exactly once by the same conditional
write as every decision: a second or racing one is `FormSubmitted`; a form whose time ran out,
whose run stopped, or whose wait Step Functions no longer holds is `FormExpired`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from signoff.errors import FormExpired, FormSubmitted, NotFound
from signoff.reviews.decisions import DecisionRequest, ReviewService
from signoff.reviews.waits import utc_now
from signoff.store import parse_iso
from signoff.store.reviews import (
    DECIDED_STATUSES,
    ReviewAction,
    ReviewClosed,
    ReviewKind,
    ReviewRecord,
    ReviewRepository,
    ReviewStatus,
)
from signoff.store.runs import RunRepository

# Who submitted, when the caller names nobody.
ANONYMOUS = "form"


@dataclass(frozen=True)
class HumanInputForm:
    """A form as a person (or a Dify client) sees it."""

    form_token: str
    tenant_id: str
    workflow_id: str
    run_id: str
    review_id: str
    node_id: str
    node_title: str
    status: str
    """pending, submitted, timed_out, cancelled or expired (the review's status)."""
    form_content: str
    """Markdown, its `{{#node.var#}}` references resolved when the wait began."""
    inputs: list[dict[str, Any]]
    """[{type, output_variable_name, default {type, selector, value}, required, options?...}]"""
    user_actions: list[dict[str, Any]]
    """[{id, title, button_style}]"""
    resolved_default_values: dict[str, str]
    created_at: str
    expires_at: str | None
    """ISO 8601, or None: open until the run's own time limit."""
    expiration_time: int | None
    """expires_at in Unix seconds (Dify's field)."""
    action_id: str | None = None
    submitted_inputs: dict[str, Any] | None = None
    decided_by: str | None = None
    decided_at: str | None = None

    @property
    def is_open(self) -> bool:
        return self.status == ReviewStatus.PENDING.value

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def unix_seconds(iso_time: str | None) -> int | None:
    return int(parse_iso(iso_time).timestamp()) if iso_time else None


class HumanInputForms:
    """The form service the native /forms routes and the Dify /v1/form routes call."""

    def __init__(
        self,
        reviews: ReviewRepository,
        runs: RunRepository,
        decisions: ReviewService,
        *,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._reviews = reviews
        self._runs = runs
        self._decisions = decisions
        self._clock = clock

    def find(self, form_token: str, *, tenant_id: str | None = None) -> HumanInputForm:
        """The form whatever its status; NotFound for an unknown token (or, with `tenant_id`,
        another tenant's form)."""
        review = self._reviews.find_by_form_token(form_token)
        if (
            review is None
            or review.kind is not ReviewKind.HUMAN_INPUT
            or (tenant_id is not None and review.tenant_id != tenant_id)
        ):
            raise NotFound("no such form")
        run = self._runs.get(review.tenant_id, review.run_id)
        return form_of(review, run.workflow_id)

    def get(self, form_token: str, *, tenant_id: str | None = None) -> HumanInputForm:
        """An open form; FormSubmitted once it was submitted, FormExpired once it closed
        otherwise (or its time has run out)."""
        form = self.find(form_token, tenant_id=tenant_id)
        self._check_open(form)
        return form

    def submit(
        self,
        form_token: str,
        *,
        inputs: dict[str, Any],
        action: str,
        user: str | None,
        tenant_id: str | None = None,
    ) -> HumanInputForm:
        """Submit the form with the button `action` pressed: the run goes on along that
        action's edge with the values as the node's outputs. InvalidInput when the values do not
        fit the form; FormSubmitted / FormExpired as `get`. Answers the submitted form."""
        form = self.get(form_token, tenant_id=tenant_id)
        request = DecisionRequest(action=ReviewAction.SUBMIT, action_id=action, inputs=inputs)
        try:
            decided = self._decisions.decide(
                form.tenant_id,
                form.run_id,
                form.review_id,
                request,
                decided_by=user or ANONYMOUS,
            )
        except ReviewClosed as closed:
            raise _closed_error(closed.review) from closed
        return form_of(decided, form.workflow_id)

    def _check_open(self, form: HumanInputForm) -> None:
        if form.status == ReviewStatus.SUBMITTED.value:
            raise FormSubmitted(f"the form of node {form.node_id} was submitted already")
        if not form.is_open:
            raise FormExpired(f"the form of node {form.node_id} is closed ({form.status})")
        if form.expires_at is not None and parse_iso(form.expires_at) <= self._clock():
            raise FormExpired(f"the form of node {form.node_id} expired at {form.expires_at}")


def _closed_error(review: ReviewRecord) -> FormSubmitted | FormExpired:
    if review.status in DECIDED_STATUSES:
        return FormSubmitted(f"the form of node {review.node_id} was submitted already")
    return FormExpired(f"the form of node {review.node_id} is closed ({review.status.value})")


def form_of(review: ReviewRecord, workflow_id: str) -> HumanInputForm:
    settings = review.settings or {}
    return HumanInputForm(
        form_token=review.form_token or "",
        tenant_id=review.tenant_id,
        workflow_id=workflow_id,
        run_id=review.run_id,
        review_id=review.review_id,
        node_id=review.node_id,
        node_title=review.node_title or review.node_id,
        status=review.status.value,
        form_content=str(settings.get("form_content") or ""),
        inputs=list(settings.get("inputs") or []),
        user_actions=list(settings.get("user_actions") or []),
        resolved_default_values=dict(settings.get("resolved_default_values") or {}),
        created_at=review.created_at,
        expires_at=review.expires_at,
        expiration_time=unix_seconds(review.expires_at),
        action_id=review.action_id,
        submitted_inputs=review.inputs,
        decided_by=review.decided_by,
        decided_at=review.decided_at,
    )
