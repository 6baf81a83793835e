"""Deciding reviews against moto's tables when Step Functions does not take the decision: a token
it no longer knows expires the review (409); a refusal for another reason leaves it pending."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from signoff.errors import InvalidInput
from signoff.reviews.decisions import DecisionNotDelivered, DecisionRequest, ReviewService
from signoff.reviews.waits import ReviewWaits
from signoff.store.reviews import DynamoReviewRepository, ReviewClosed, ReviewStatus
from signoff.store.runs import DynamoRunRepository, RunRecord, RunStatus

pytestmark = pytest.mark.integration

ARN = "arn:aws:states:us-east-1:123456789012:execution:signoff-dev-abc-drafter:run-1"


class RefusingStepFunctions:
    """A Step Functions client whose SendTaskSuccess is throttled."""

    def __init__(self) -> None:
        self.calls = 0

    def send_task_success(self, **_: Any) -> None:
        self.calls += 1
        raise ClientError(
            {"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "SendTaskSuccess"
        )


class World:
    def __init__(self, dynamodb: Any, tables: dict[str, str], sfn: Any) -> None:
        self.reviews = DynamoReviewRepository(tables["ReviewsTable"], dynamodb)
        self.runs = DynamoRunRepository(tables["RunsTable"], dynamodb)
        self.service = ReviewService(self.reviews, self.runs, sfn)
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

    def wait(self, kind: str = "review", settings: dict[str, Any] | None = None) -> str:
        answer = ReviewWaits(self.reviews, self.runs).handle(
            {
                "action": "request",
                "run": {"run_id": "run-1", "tenant_id": "tenant-a"},
                "kind": kind,
                "node": {"id": "draft", "type": "llm"},
                "outputs": {"text": "a draft"},
                "settings": settings or {},
                "task_token": "a-token-step-functions-never-issued",
            }
        )
        return answer["review_id"]

    def decide(self, review_id: str, **request: Any):
        return self.service.decide(
            "tenant-a", "run-1", review_id, DecisionRequest(**request), decided_by="key_1"
        )


@pytest.fixture
def world(dynamodb, tables) -> World:
    return World(dynamodb, tables, boto3.client("stepfunctions", region_name="us-east-1"))


def test_given_a_token_step_functions_refuses_then_the_review_expires_and_409(world):
    review_id = world.wait()

    with pytest.raises(ReviewClosed) as refusal:
        world.decide(review_id, action="approve")

    assert refusal.value.status == 409
    assert "expired" in refusal.value.message
    stored = world.reviews.get("tenant-a", "run-1", review_id)
    assert stored.status is ReviewStatus.EXPIRED
    assert stored.decided_by == "key_1"
    with pytest.raises(ReviewClosed):
        world.decide(review_id, action="approve")


def test_given_step_functions_throttled_then_the_review_is_pending_again_and_the_run_paused(
    dynamodb, tables
):
    sfn = RefusingStepFunctions()
    world = World(dynamodb, tables, sfn)
    review_id = world.wait()

    with pytest.raises(DecisionNotDelivered) as refusal:
        world.decide(review_id, action="approve")

    assert refusal.value.status == 503
    assert world.reviews.get("tenant-a", "run-1", review_id).status is ReviewStatus.PENDING
    assert world.runs.get("tenant-a", "run-1").status is RunStatus.PAUSED
    assert sfn.calls == 1


def test_given_a_step_pause_then_it_is_approved_or_edited_never_revised(world):
    review_id = world.wait(kind="step")

    with pytest.raises(InvalidInput) as refusal:
        world.decide(review_id, action="revise", feedback="again")

    assert "step" in refusal.value.message
    assert world.reviews.get("tenant-a", "run-1", review_id).is_pending


def test_given_a_human_input_form_then_submissions_are_checked_against_it(world):
    form = {
        "inputs": [
            {"output_variable_name": "reason", "type": "paragraph", "required": True},
            {"output_variable_name": "tier", "type": "select", "options": ["gold", "silver"]},
        ],
        "user_actions": [{"id": "accept", "title": "Accept"}, {"id": "reject", "title": "No"}],
    }
    review_id = world.wait(kind="human-input", settings=form)

    problems = [
        {"action": "approve"},
        {"action_id": "maybe", "inputs": {"reason": "x"}},
        {"action_id": "accept", "inputs": {}},
        {"action_id": "accept", "inputs": {"reason": "x", "tier": "bronze"}},
    ]
    fields = []
    for request in problems:
        with pytest.raises(InvalidInput) as refusal:
            world.decide(review_id, **request)
        fields.append(refusal.value.field)

    assert fields == ["action", "action_id", "inputs.reason", "inputs.tier"]
    assert world.reviews.get("tenant-a", "run-1", review_id).is_pending
