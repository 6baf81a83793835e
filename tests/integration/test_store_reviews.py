"""The Reviews table against moto: a review leaves pending exactly once, by conditional writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from signoff.errors import Conflict, NotFound
from signoff.store.reviews import (
    Decision,
    DynamoReviewRepository,
    ReviewAction,
    ReviewClosed,
    ReviewKind,
    ReviewRecord,
    ReviewStatus,
    new_review_id,
)

pytestmark = pytest.mark.integration

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def reviews(dynamodb, tables) -> DynamoReviewRepository:
    return DynamoReviewRepository(tables["ReviewsTable"], dynamodb)


def pending(run_id: str = "run-1", *, seconds: int = 0, node_id: str = "draft") -> ReviewRecord:
    created = T0 + timedelta(seconds=seconds)
    return ReviewRecord(
        tenant_id="tenant-a",
        run_id=run_id,
        review_id=new_review_id(created),
        node_id=node_id,
        node_type="llm",
        node_title="Draft",
        round=1,
        kind=ReviewKind.REVIEW,
        outputs={"text": "a draft"},
        settings={"max_rounds": 3},
        task_token="token-1",
        created_at=created.isoformat(),
    )


def decision(action: ReviewAction = ReviewAction.APPROVE, **fields) -> Decision:
    return Decision(
        action=action, decided_by="key_1", decided_at="2024-05-01T12:01:00.000Z", **fields
    )


def test_given_reviews_when_listed_then_in_creation_order_with_their_token_kept(reviews):
    later = reviews.create(pending(seconds=5))
    earlier = reviews.create(pending(seconds=1))

    listed = reviews.list_for_run("tenant-a", "run-1")

    assert [review.review_id for review in listed] == [earlier.review_id, later.review_id]
    assert listed[0].task_token == "token-1"
    assert listed[0].outputs == {"text": "a draft"}
    assert reviews.list_for_run("tenant-b", "run-1") == []


def test_given_a_pending_review_when_decided_twice_then_the_second_is_refused_unchanged(reviews):
    review = reviews.create(pending())

    decided = reviews.decide(
        review, decision(ReviewAction.REVISE, feedback="shorter", edited_outputs=None)
    )
    with pytest.raises(ReviewClosed) as refusal:
        reviews.decide(review, decision(ReviewAction.APPROVE))

    assert decided.status is ReviewStatus.REVISED
    assert (decided.decision, decided.feedback) == (ReviewAction.REVISE, "shorter")
    assert refusal.value.review.status is ReviewStatus.REVISED
    assert refusal.value.status == 409
    stored = reviews.get("tenant-a", "run-1", review.review_id)
    assert (stored.status, stored.feedback, stored.decided_by) == (
        ReviewStatus.REVISED,
        "shorter",
        "key_1",
    )


def test_given_an_edit_then_the_edited_outputs_are_kept_beside_the_ones_shown(reviews):
    review = reviews.create(pending())

    decided = reviews.decide(review, decision(ReviewAction.EDIT, edited_outputs={"text": "mine"}))

    assert decided.status is ReviewStatus.EDITED
    assert decided.edited_outputs == {"text": "mine"}
    assert decided.outputs == {"text": "a draft"}


def test_given_a_closed_review_then_no_decision_moves_it(reviews):
    timed_out = reviews.close(reviews.create(pending()), ReviewStatus.TIMED_OUT, "t1")
    cancelled = reviews.close(reviews.create(pending(seconds=1)), ReviewStatus.CANCELLED, "t2")

    for review in (timed_out, cancelled):
        with pytest.raises(ReviewClosed):
            reviews.decide(review, decision())
        with pytest.raises(ReviewClosed):
            reviews.close(review, ReviewStatus.CANCELLED, "t3")
    assert reviews.get("tenant-a", "run-1", timed_out.review_id).status is ReviewStatus.TIMED_OUT


def test_given_a_decided_review_whose_token_was_refused_then_it_expires_once(reviews):
    decided = reviews.decide(reviews.create(pending()), decision())

    expired = reviews.expire_decided(decided, "2024-05-01T12:02:00.000Z")

    assert expired.status is ReviewStatus.EXPIRED
    assert expired.decision is ReviewAction.APPROVE
    assert expired.expired_at == "2024-05-01T12:02:00.000Z"
    with pytest.raises(ReviewClosed):
        reviews.expire_decided(decided, "again")


def test_given_a_decision_never_delivered_then_reopen_makes_it_pending_again(reviews):
    decided = reviews.decide(reviews.create(pending()), decision(ReviewAction.REVISE, feedback="x"))

    reopened = reviews.reopen(decided)

    assert reopened.status is ReviewStatus.PENDING
    assert (reopened.decision, reopened.feedback, reopened.decided_at) == (None, None, None)
    with pytest.raises(ReviewClosed):
        reviews.reopen(decided)  # no longer as that decision left it


def test_given_a_pending_review_when_asked_again_then_it_takes_the_new_token(reviews):
    review = reviews.create(pending())

    renewed = reviews.renew_token(review, "token-2", {"text": "again"})

    assert (renewed.task_token, renewed.outputs) == ("token-2", {"text": "again"})
    assert renewed.review_id == review.review_id


def test_given_a_review_id_taken_or_unknown_then_conflict_or_not_found(reviews):
    review = reviews.create(pending())

    with pytest.raises(Conflict):
        reviews.create(review)
    with pytest.raises(NotFound):
        reviews.get("tenant-a", "run-1", "rv-unknown")
    with pytest.raises(NotFound):
        reviews.decide(review.model_copy(update={"review_id": "rv-unknown"}), decision())


def test_given_review_ids_then_they_sort_by_creation_and_fit_in_a_url():
    first = new_review_id(T0)
    second = new_review_id(T0 + timedelta(milliseconds=1))

    assert first < second
    assert first.startswith("rv-") and first.replace("-", "").isalnum()
    with pytest.raises(ValueError):
        new_review_id(datetime(2024, 1, 1))
