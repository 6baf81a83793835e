"""What clients send: a decision (action or the seed's satisfied), single-node run inputs; and what
the state machine receives for a decision."""

from __future__ import annotations

import pytest

from signoff.errors import InvalidInput
from signoff.reviews.debug import node_variables
from signoff.reviews.decisions import DecisionRequest, task_output
from signoff.store.reviews import ReviewAction, ReviewRecord, ReviewStatus


@pytest.mark.parametrize(
    ("request_fields", "action"),
    [
        ({"action": "approve"}, ReviewAction.APPROVE),
        ({"action": "edit", "outputs": {}}, ReviewAction.EDIT),
        ({"satisfied": True}, ReviewAction.APPROVE),
        ({"satisfied": False, "feedback": "more"}, ReviewAction.REVISE),
        ({"action": "revise", "satisfied": False}, ReviewAction.REVISE),
        ({"action_id": "accept"}, ReviewAction.SUBMIT),
        ({"inputs": {"a": 1}}, ReviewAction.SUBMIT),
    ],
)
def test_given_a_decision_then_its_action(request_fields, action):
    assert DecisionRequest(**request_fields).resolved_action() is action


@pytest.mark.parametrize(
    ("request_fields", "field"),
    [({}, "action"), ({"action": "approve", "satisfied": False}, "satisfied")],
)
def test_given_no_action_or_a_contradiction_then_invalid_input_naming_the_field(
    request_fields, field
):
    with pytest.raises(InvalidInput) as refusal:
        DecisionRequest(**request_fields).resolved_action()

    assert refusal.value.field == field


def test_given_a_decided_review_then_the_task_output_has_the_contracts_keys_and_no_token():
    review = ReviewRecord(
        tenant_id="t",
        run_id="r",
        review_id="rv-1",
        node_id="draft",
        task_token="secret",
        status=ReviewStatus.EDITED,
        decision=ReviewAction.EDIT,
        edited_outputs={"text": "mine"},
        created_at="2024-05-01T12:00:00.000Z",
    )

    output = task_output(review, {"start": {"topic": "cats"}})

    assert output == {
        "action": "edit",
        "feedback": None,
        "outputs": {"text": "mine"},
        "patch": {"start": {"topic": "cats"}},
        "action_id": None,
        "inputs": None,
    }


def test_given_nested_and_flat_inputs_then_the_node_events_variables():
    variables = node_variables(
        {
            "start": {"topic": "owls"},
            "#start.tone#": "dry",
            "draft.text": "a draft",
            "skipped": None,
        }
    )

    assert variables == {
        "start": {"topic": "owls", "tone": "dry"},
        "draft": {"text": "a draft"},
        "skipped": None,
    }


@pytest.mark.parametrize("inputs", [{"start": "owls"}, {"skipped": None, "#skipped.x#": 1}])
def test_given_inputs_that_name_no_outputs_then_invalid_input(inputs):
    with pytest.raises(InvalidInput):
        node_variables(inputs)
