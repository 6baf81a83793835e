"""The Reviews table: one item per wait of a run on a person (a review round, a step, a form).

Keys: partition `tenant_run_id` = `<tenant>#<run>`, sort `review_id` = `rv-<created_ms:013d>-<hex>`,
so a run's reviews read back in the order they were requested.

A review is created `pending` holding the Step Functions task token, which never leaves the
server. It leaves `pending` exactly once, by a conditional write: decided (approved, revised,
edited, submitted), timed out, or cancelled. A decided review whose token Step Functions refused is
marked `expired`. Every refused move raises `ReviewClosed` with the review as it is.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

import boto3
from botocore.exceptions import ClientError
from pydantic import BaseModel, Field

from signoff.errors import Conflict, NotFound
from signoff.store import (
    dump_json,
    from_item,
    is_condition_failure,
    to_item,
    to_value,
    update_or_stored,
)

# The sparse index of human-input reviews by their form token (template.yaml).
FORM_TOKEN_INDEX = "by_form_token"
_JSON_FIELDS = ("outputs", "settings", "edited_outputs", "inputs", "patch", "index_path")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)


class ReviewStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REVISED = "revised"
    EDITED = "edited"
    SUBMITTED = "submitted"
    TIMED_OUT = "timed_out"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class ReviewKind(StrEnum):
    REVIEW = "review"  # a node's `review` settings
    STEP = "step"  # step mode: a pause after every node
    HUMAN_INPUT = "human-input"  # the human-input node's form


class ReviewAction(StrEnum):
    APPROVE = "approve"
    REVISE = "revise"
    EDIT = "edit"
    SUBMIT = "submit"

    @property
    def status(self) -> ReviewStatus:
        return _DECIDED_STATUS[self]


_DECIDED_STATUS = {
    ReviewAction.APPROVE: ReviewStatus.APPROVED,
    ReviewAction.REVISE: ReviewStatus.REVISED,
    ReviewAction.EDIT: ReviewStatus.EDITED,
    ReviewAction.SUBMIT: ReviewStatus.SUBMITTED,
}
DECIDED_STATUSES = frozenset(_DECIDED_STATUS.values())


class IndexStep(BaseModel):
    """One container around a waiting node and the index of its item or round there."""

    container_id: str
    index: int = Field(ge=0)


def place_of(index_path: list[IndexStep] | None) -> tuple[tuple[str, int], ...]:
    """Which item and round a wait belongs to, comparable (empty at the top level)."""
    return tuple((step.container_id, step.index) for step in index_path or [])


class ReviewRecord(BaseModel):
    tenant_id: str
    run_id: str
    review_id: str
    node_id: str
    node_type: str = ""
    node_title: str = ""
    round: int = Field(default=1, ge=1)
    kind: ReviewKind = ReviewKind.REVIEW
    # Inside iterations and loops (null at the top level): the innermost container, the item's
    # index in the innermost iteration and the round's in the innermost loop (0-based), and
    # `index_path`: every container around the node, outermost first, `{container_id, index}`.
    # A node waits once per item and round: these tell its waits apart.
    container_id: str | None = None
    item_index: int | None = None
    loop_index: int | None = None
    index_path: list[IndexStep] | None = None
    status: ReviewStatus = ReviewStatus.PENDING
    # What the person is shown: the node's outputs when it asked, and its review settings (or the
    # human-input form).
    outputs: dict[str, Any] | None = None
    settings: dict[str, Any] = Field(default_factory=dict)
    task_token: str = Field(min_length=1, repr=False)
    # A human-input form's capability (signoff.reviews.forms), the key of the index
    # `by_form_token`; unlike the task token it is meant to be handed to the person.
    form_token: str | None = Field(default=None, repr=False)
    decision: ReviewAction | None = None
    feedback: str | None = None
    edited_outputs: dict[str, Any] | None = None
    action_id: str | None = None
    inputs: dict[str, Any] | None = None
    # The variable edits (node id -> outputs) sent to the run with this decision.
    patch: dict[str, Any] | None = None
    decided_by: str | None = None
    decided_at: str | None = None
    created_at: str
    expires_at: str | None = None
    expired_at: str | None = None

    @property
    def is_pending(self) -> bool:
        return self.status is ReviewStatus.PENDING

    @property
    def place(self) -> tuple[tuple[str, int], ...]:
        return place_of(self.index_path)


class Decision(BaseModel):
    """What a person decided; `decided_by` is the API key id that sent it."""

    action: ReviewAction
    feedback: str | None = None
    edited_outputs: dict[str, Any] | None = None
    action_id: str | None = None
    inputs: dict[str, Any] | None = None
    decided_by: str
    decided_at: str


class ReviewClosed(Conflict):
    """The review has already left `pending` (or the move it needed is no longer possible)."""

    code = "review_closed"

    def __init__(self, review: ReviewRecord, message: str | None = None) -> None:
        super().__init__(
            message or f"review {review.review_id} is already {review.status.value}",
            details={"review_id": review.review_id, "status": review.status.value},
        )
        self.review = review


def new_review_id(created_at: datetime) -> str:
    """Sortable by creation time, unique, and safe in a URL path."""
    if created_at.tzinfo is None:
        raise ValueError("times are stored from aware datetimes")
    created_ms = (created_at - _EPOCH) // _MILLISECOND
    return f"rv-{created_ms:013d}-{secrets.token_hex(4)}"


def tenant_run_id(tenant_id: str, run_id: str) -> str:
    return f"{tenant_id}#{run_id}"


class ReviewRepository(Protocol):
    def create(self, review: ReviewRecord) -> ReviewRecord: ...

    def get(self, tenant_id: str, run_id: str, review_id: str) -> ReviewRecord: ...

    def list_for_run(self, tenant_id: str, run_id: str) -> list[ReviewRecord]: ...

    def find_by_form_token(self, form_token: str) -> ReviewRecord | None: ...

    def renew_token(
        self, review: ReviewRecord, task_token: str, outputs: dict[str, Any] | None
    ) -> ReviewRecord: ...

    def decide(self, review: ReviewRecord, decision: Decision) -> ReviewRecord: ...

    def close(self, review: ReviewRecord, status: ReviewStatus, at: str) -> ReviewRecord: ...

    def expire_decided(self, review: ReviewRecord, at: str) -> ReviewRecord: ...

    def record_patch(self, review: ReviewRecord, patch: dict[str, Any]) -> ReviewRecord: ...

    def reopen(self, review: ReviewRecord) -> ReviewRecord: ...


class DynamoReviewRepository:
    def __init__(self, table_name: str, client: Any = None) -> None:
        self._table = table_name
        self._client = client or boto3.client("dynamodb")

    def create(self, review: ReviewRecord) -> ReviewRecord:
        if not review.is_pending:
            raise ValueError("a review is created pending")
        attributes = {
            "tenant_run_id": tenant_run_id(review.tenant_id, review.run_id),
            **review.model_dump(mode="json"),
        }
        try:
            self._client.put_item(
                TableName=self._table,
                Item=to_item(attributes, json_fields=_JSON_FIELDS),
                ConditionExpression="attribute_not_exists(review_id)",
            )
        except ClientError as error:
            if is_condition_failure(error):
                raise Conflict(f"review {review.review_id} already exists") from error
            raise
        return review

    def find(self, tenant_id: str, run_id: str, review_id: str) -> ReviewRecord | None:
        response = self._client.get_item(
            TableName=self._table,
            Key=self._key(tenant_id, run_id, review_id),
            ConsistentRead=True,
        )
        item = response.get("Item")
        return _review(item) if item else None

    def get(self, tenant_id: str, run_id: str, review_id: str) -> ReviewRecord:
        review = self.find(tenant_id, run_id, review_id)
        if review is None:
            raise NotFound(f"review {review_id} not found")
        return review

    def list_for_run(self, tenant_id: str, run_id: str) -> list[ReviewRecord]:
        """Every review of the run, oldest first (the sort key begins with the creation time)."""
        pages = self._client.get_paginator("query").paginate(
            TableName=self._table,
            KeyConditionExpression="tenant_run_id = :key",
            ExpressionAttributeValues={":key": to_value(tenant_run_id(tenant_id, run_id))},
            ConsistentRead=True,
        )
        return [_review(item) for page in pages for item in page.get("Items", [])]

    def find_by_form_token(self, form_token: str) -> ReviewRecord | None:
        """The human-input review holding this form token: one query on the sparse index
        `by_form_token` (keys only), then the item itself, read consistently."""
        if not form_token:
            return None
        response = self._client.query(
            TableName=self._table,
            IndexName=FORM_TOKEN_INDEX,
            KeyConditionExpression="form_token = :token",
            ExpressionAttributeValues={":token": to_value(form_token)},
            Limit=1,
        )
        items = response.get("Items", [])
        if not items:
            return None
        keys = from_item(items[0])  # the index holds the keys only
        tenant_id, _, run_id = str(keys["tenant_run_id"]).rpartition("#")
        return self.find(tenant_id, run_id, str(keys["review_id"]))

    def renew_token(
        self, review: ReviewRecord, task_token: str, outputs: dict[str, Any] | None
    ) -> ReviewRecord:
        """A pending review asked for again (the wait's Task was retried): keep the newest token,
        which is the one Step Functions now waits on."""
        return self._move(
            review,
            assignments={"task_token": task_token, "outputs": dump_json(outputs)},
            from_status=ReviewStatus.PENDING,
        )

    def decide(self, review: ReviewRecord, decision: Decision) -> ReviewRecord:
        """pending -> the decision's status, exactly once: a review decided, timed out or
        cancelled meanwhile raises ReviewClosed and nothing changes."""
        assignments: dict[str, Any] = {
            "status": decision.action.status.value,
            "decision": decision.action.value,
            "decided_by": decision.decided_by,
            "decided_at": decision.decided_at,
        }
        optional = {
            "feedback": decision.feedback,
            "edited_outputs": _json_or_none(decision.edited_outputs),
            "action_id": decision.action_id,
            "inputs": _json_or_none(decision.inputs),
        }
        assignments.update({name: value for name, value in optional.items() if value is not None})
        return self._move(review, assignments=assignments, from_status=ReviewStatus.PENDING)

    def close(self, review: ReviewRecord, status: ReviewStatus, at: str) -> ReviewRecord:
        """pending -> timed_out or cancelled."""
        if status not in (ReviewStatus.TIMED_OUT, ReviewStatus.CANCELLED):
            raise ValueError(f"a review is closed timed_out or cancelled, not {status}")
        return self._move(
            review,
            assignments={"status": status.value, "decided_at": at},
            from_status=ReviewStatus.PENDING,
        )

    def expire_decided(self, review: ReviewRecord, at: str) -> ReviewRecord:
        """A decision Step Functions refused (the wait had timed out or the execution ended):
        decided -> expired, keeping who decided what."""
        if review.status not in DECIDED_STATUSES:
            raise ValueError("only a decided review expires")
        return self._move(
            review,
            assignments={"status": ReviewStatus.EXPIRED.value, "expired_at": at},
            from_status=review.status,
        )

    def record_patch(self, review: ReviewRecord, patch: dict[str, Any]) -> ReviewRecord:
        """Keep the variable edits that were sent with this review's decision."""
        return self._move(review, assignments={"patch": dump_json(patch)}, from_status=None)

    def reopen(self, review: ReviewRecord) -> ReviewRecord:
        """Undo a decision Step Functions never received: decided -> pending, if the review is
        still exactly as that decision left it."""
        if review.status not in DECIDED_STATUSES or review.decided_at is None:
            raise ValueError("only a decided review is reopened")
        cleared = ", ".join(_DECISION_FIELDS)
        return self._update(
            review,
            update=f"SET #status = :pending REMOVE {cleared}",
            condition="#status = :decided AND decided_at = :decided_at",
            names={"#status": "status"},
            values={
                ":pending": to_value(ReviewStatus.PENDING.value),
                ":decided": to_value(review.status.value),
                ":decided_at": to_value(review.decided_at),
            },
        )

    def _move(
        self,
        review: ReviewRecord,
        *,
        assignments: dict[str, Any],
        from_status: ReviewStatus | None,
    ) -> ReviewRecord:
        names = {f"#a{index}": name for index, name in enumerate(assignments)}
        values = {f":a{index}": to_value(value) for index, value in enumerate(assignments.values())}
        condition = "attribute_exists(review_id)"
        if from_status is not None:
            names["#status"] = "status"
            values[":from"] = to_value(from_status.value)
            condition += " AND #status = :from"
        return self._update(
            review,
            update="SET "
            + ", ".join(f"#a{index} = :a{index}" for index in range(len(assignments))),
            condition=condition,
            names=names,
            values=values,
        )

    def _update(
        self,
        review: ReviewRecord,
        *,
        update: str,
        condition: str,
        names: dict[str, str],
        values: dict[str, Any],
    ) -> ReviewRecord:
        """The review after a conditional update; ReviewClosed with the review as it is when the
        condition refused the update, NotFound when there is no review."""
        item, applied = update_or_stored(
            self._client,
            table=self._table,
            key=self._key(review.tenant_id, review.run_id, review.review_id),
            update=update,
            condition=condition,
            values=values,
            names=names,
            missing=f"review {review.review_id}",
        )
        if not applied:
            raise ReviewClosed(_review(item))
        return _review(item)

    @staticmethod
    def _key(tenant_id: str, run_id: str, review_id: str) -> dict[str, Any]:
        return {
            "tenant_run_id": to_value(tenant_run_id(tenant_id, run_id)),
            "review_id": to_value(review_id),
        }


_DECISION_FIELDS = (
    "decision",
    "feedback",
    "edited_outputs",
    "action_id",
    "inputs",
    "decided_by",
    "decided_at",
)


def _json_or_none(value: Any) -> str | None:
    return None if value is None else dump_json(value)


def _review(item: dict[str, Any]) -> ReviewRecord:
    attributes = from_item(item, json_fields=_JSON_FIELDS)
    attributes.pop("tenant_run_id", None)
    return ReviewRecord.model_validate(attributes)
