"""The review function's service against moto's tables: a wait begins (request) and times out
(expire), and the run moves between running and paused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from signoff.reviews.waits import InvalidReviewEvent, ReviewWaits, wait_timeout_seconds
from signoff.store.reviews import (
    Decision,
    DynamoReviewRepository,
    ReviewAction,
    ReviewKind,
    ReviewStatus,
)
from signoff.store.runs import DynamoRunRepository, RunRecord, RunStatus

pytestmark = pytest.mark.integration

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
ARN = "arn:aws:states:us-east-1:123456789012:execution:signoff-dev-abc-drafter:run-1"


class World:
    def __init__(self, dynamodb: Any, tables: dict[str, str]) -> None:
        self.reviews = DynamoReviewRepository(tables["ReviewsTable"], dynamodb)
        self.runs = DynamoRunRepository(tables["RunsTable"], dynamodb)
        self.now = NOW
        self.waits = ReviewWaits(self.reviews, self.runs, clock=lambda: self.now)
        self.runs.create(
            RunRecord(
                tenant_id="tenant-a",
                run_id="run-1",
                workflow_id="drafter",
                workflow_version=1,
                inputs={},
                created_at="2024-05-01T11:59:00.000Z",
            )
        )
        self.runs.mark_running("tenant-a", "run-1", ARN)

    def status(self) -> RunStatus:
        return self.runs.get("tenant-a", "run-1").status


@pytest.fixture
def world(dynamodb, tables) -> World:
    return World(dynamodb, tables)


def request(node_id: str = "draft", round_: int = 1, token: str = "token-1", **changes: Any):
    return {
        "action": "request",
        "run": {"run_id": "run-1", "tenant_id": "tenant-a", "workflow_id": "drafter"},
        "kind": "review",
        "node": {"id": node_id, "type": "llm", "title": "Draft"},
        "round": round_,
        "outputs": {"text": "a draft"},
        "settings": {"max_rounds": 3, "timeout": 60, "on_timeout": "approve"},
        "task_token": token,
        **changes,
    }


def expire(node_id: str = "draft", round_: int = 1) -> dict[str, Any]:
    return {
        "action": "expire",
        "run": {"run_id": "run-1", "tenant_id": "tenant-a"},
        "node": {"id": node_id},
        "round": round_,
    }


def test_given_a_request_then_a_pending_review_holds_the_token_and_the_run_is_paused(world):
    answer = world.waits.handle(request())

    [review] = world.reviews.list_for_run("tenant-a", "run-1")
    assert answer == {"review_id": review.review_id, "status": "pending"}
    assert review.task_token == "token-1"
    assert (review.node_id, review.node_type, review.node_title) == ("draft", "llm", "Draft")
    assert review.outputs == {"text": "a draft"}
    assert review.kind is ReviewKind.REVIEW
    assert review.created_at == "2024-05-01T12:00:00.000Z"
    assert review.expires_at == "2024-05-01T12:01:00.000Z"
    assert world.status() is RunStatus.PAUSED


def test_given_the_same_wait_requested_again_then_one_review_with_the_newest_token(world):
    first = world.waits.handle(request(token="token-1"))
    second = world.waits.handle(request(token="token-2"))

    [review] = world.reviews.list_for_run("tenant-a", "run-1")
    assert first["review_id"] == second["review_id"] == review.review_id
    assert review.task_token == "token-2"


def test_given_a_stopped_run_when_its_wait_begins_then_the_review_is_cancelled_at_once(world):
    world.runs.settle("tenant-a", "run-1", RunStatus.STOPPED)

    answer = world.waits.handle(request())

    assert answer["status"] == "cancelled"
    assert world.status() is RunStatus.STOPPED


def test_given_a_wait_that_timed_out_then_its_review_is_timed_out_and_the_run_running(world):
    world.waits.handle(request())
    world.now = NOW + timedelta(seconds=61)

    answer = world.waits.handle(expire())

    [review] = world.reviews.list_for_run("tenant-a", "run-1")
    assert answer == {"review_id": review.review_id, "status": "timed_out"}
    assert review.status is ReviewStatus.TIMED_OUT
    assert review.decided_at == "2024-05-01T12:01:01.000Z"
    assert world.status() is RunStatus.RUNNING


def test_given_a_review_decided_as_it_timed_out_then_the_decision_stands(world):
    created = world.waits.handle(request())
    review = world.reviews.get("tenant-a", "run-1", created["review_id"])
    world.reviews.decide(
        review, Decision(action=ReviewAction.APPROVE, decided_by="key_1", decided_at="t")
    )

    answer = world.waits.handle(expire())

    assert answer["status"] == "approved"
    assert world.status() is RunStatus.RUNNING


def test_given_two_waits_at_once_then_the_run_stays_paused_until_both_have_ended(world):
    world.waits.handle(request("left", token="token-left"))
    world.waits.handle(request("right", token="token-right"))

    world.waits.handle(expire("left"))
    assert world.status() is RunStatus.PAUSED
    world.waits.handle(expire("right"))
    assert world.status() is RunStatus.RUNNING


def test_given_an_expiry_with_no_review_on_record_then_it_answers_and_the_run_goes_on(world):
    world.runs.mark_paused("tenant-a", "run-1")

    assert world.waits.handle(expire("ghost")) == {"review_id": None, "status": "timed_out"}
    assert world.status() is RunStatus.RUNNING


@pytest.mark.parametrize("kind", [None, "review"])
def test_given_a_wait_that_timed_out_before_its_request_then_the_late_request_never_pauses(
    world, kind
):
    # Given Step Functions timed the wait out while its request was still on the way (a short
    # timeout and a slow start of the review function)
    expiry = expire() if kind is None else {**expire(), "kind": kind}
    assert world.waits.handle(expiry) == {"review_id": None, "status": "timed_out"}

    # When the request gets here
    answer = world.waits.handle(request())

    # Then its review is closed at once and the run goes on as if it never waited
    [review] = world.reviews.list_for_run("tenant-a", "run-1")
    assert answer == {"review_id": review.review_id, "status": "timed_out"}
    assert review.status is ReviewStatus.TIMED_OUT
    assert world.status() is RunStatus.RUNNING
    assert world.runs.get("tenant-a", "run-1").pending_reviews == frozenset()


def test_given_a_timed_out_wait_then_the_next_rounds_and_other_items_wait_as_usual(world):
    world.waits.handle(expire())

    world.waits.handle(request(round_=2))
    item = {
        "iteration_id": "each",
        "iteration_index": 1,
        "path": [{"container_id": "each", "index": 1}],
    }
    world.waits.handle({**request(), "scope": item})

    statuses = [review.status for review in world.reviews.list_for_run("tenant-a", "run-1")]
    assert statuses == [ReviewStatus.PENDING, ReviewStatus.PENDING]
    assert world.status() is RunStatus.PAUSED


@pytest.mark.parametrize(
    "event",
    [
        {"action": "approve"},
        {**request(), "task_token": ""},
        {**request(), "round": 0},
        {**request(), "kind": "vote"},
        {"action": "expire", "run": {"run_id": "run-1"}, "node": {"id": "draft"}},
    ],
)
def test_given_a_malformed_event_then_invalid_review_event_naming_the_field(world, event):
    with pytest.raises(InvalidReviewEvent) as refusal:
        world.waits.handle(event)

    assert "malformed" in refusal.value.message
    assert world.reviews.list_for_run("tenant-a", "run-1") == []


@pytest.mark.parametrize(
    ("settings", "seconds"),
    [
        ({"timeout": 30}, 30),
        ({"timeout": 2, "timeout_unit": "hour"}, 7200),
        ({"timeout": 1, "timeout_unit": "days"}, 86400),
        ({"timeout": 0}, None),
        ({"timeout": True}, None),
        ({}, None),
    ],
)
def test_given_wait_settings_then_their_timeout_in_seconds(settings, seconds):
    assert wait_timeout_seconds(settings) == seconds
