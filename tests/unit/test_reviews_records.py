"""Rebuilding a run's picture from its records: the variables (GET /runs/{id}/variables), the
node history with review rounds (GET /runs/{id}/nodes), and where a retry resumes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from signoff.graph import parse_workflow
from signoff.reviews.history import merge_history
from signoff.reviews.retry import resume_point
from signoff.reviews.variables import compose_variables
from signoff.store.node_executions import NodeExecution, NodeFailure, format_time
from signoff.store.reviews import ReviewAction, ReviewKind, ReviewRecord, ReviewStatus

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def at(second: float) -> datetime:
    return T0 + timedelta(seconds=second)


def execution(
    node_id: str,
    start: float,
    end: float,
    outputs: dict[str, Any] | None = None,
    *,
    failed: bool = False,
    attempt: int = 1,
) -> NodeExecution:
    running = NodeExecution.begin(
        tenant_id="tenant-a",
        run_id="run-1",
        node_id=node_id,
        node_type="template-transform",
        attempt=attempt,
        started_at=at(start),
    )
    if failed:
        return running.failed(NodeFailure(type="ValueError", message="no"), at(end))
    return running.succeeded(outputs or {}, at(end))


def review(
    node_id: str,
    created: float,
    *,
    round_: int = 1,
    status: ReviewStatus = ReviewStatus.PENDING,
    decided: float | None = None,
    kind: ReviewKind = ReviewKind.REVIEW,
    **fields: Any,
) -> ReviewRecord:
    decision = {
        ReviewStatus.APPROVED: ReviewAction.APPROVE,
        ReviewStatus.REVISED: ReviewAction.REVISE,
        ReviewStatus.EDITED: ReviewAction.EDIT,
        ReviewStatus.SUBMITTED: ReviewAction.SUBMIT,
    }.get(status)
    return ReviewRecord(
        tenant_id="tenant-a",
        run_id="run-1",
        review_id=f"rv-{int(created * 1000):013d}-{node_id}",
        node_id=node_id,
        node_type="template-transform",
        round=round_,
        kind=kind,
        status=status,
        task_token="secret",
        decision=decision,
        decided_by="key_1" if decided is not None else None,
        decided_at=format_time(at(decided)) if decided is not None else None,
        created_at=format_time(at(created)),
        **fields,
    )


# ------------------------------------------------------------------ variables


def test_given_executions_then_each_node_has_its_latest_outputs_and_start_the_inputs():
    variables = compose_variables(
        start_node_id="start",
        inputs={"topic": "owls"},
        executions=[
            execution("draft", 1, 2, {"text": "first"}),
            execution("draft", 5, 6, {"text": "second"}),
            execution("check", 7, 8, failed=True),
        ],
        reviews=[],
    )

    assert variables == {"start": {"topic": "owls"}, "draft": {"text": "second"}}


def test_given_an_edit_and_a_sent_patch_then_they_replace_outputs_in_the_order_they_happened():
    variables = compose_variables(
        start_node_id="start",
        inputs={"topic": "owls"},
        executions=[
            execution("draft", 1, 2, {"text": "first"}),
            execution("polish", 10, 11, {"text": "polished"}),
        ],
        reviews=[
            review(
                "draft",
                3,
                status=ReviewStatus.EDITED,
                decided=4,
                edited_outputs={"text": "edited"},
                patch={"start": {"topic": "cats"}, "polish": {"text": "too early"}},
            )
        ],
    )

    # The patch set polish before polish ran; polish's own run came after and stands.
    assert variables == {
        "start": {"topic": "cats"},
        "draft": {"text": "edited"},
        "polish": {"text": "polished"},
    }


def test_given_a_submitted_form_then_its_values_are_the_nodes_outputs():
    variables = compose_variables(
        start_node_id=None,
        inputs={},
        executions=[],
        reviews=[
            review(
                "ask",
                1,
                kind=ReviewKind.HUMAN_INPUT,
                status=ReviewStatus.SUBMITTED,
                decided=2,
                inputs={"reason": "because"},
            ),
            review("later", 3),
        ],
    )

    assert variables == {"ask": {"reason": "because"}}


# ------------------------------------------------------------------ history


def test_given_review_rounds_then_each_attaches_to_the_execution_it_reviewed():
    history = merge_history(
        [
            execution("draft", 1, 2, {"text": "v1"}),
            execution("draft", 5, 6, {"text": "v2"}),
            execution("end_note", 9, 10, {"x": 1}),
        ],
        [
            review("draft", 3, status=ReviewStatus.REVISED, decided=4, feedback="shorter"),
            review("draft", 7, round_=2, status=ReviewStatus.APPROVED, decided=8),
        ],
    )

    assert [(entry.node_id, entry.round) for entry in history] == [
        ("draft", 1),
        ("draft", 2),
        ("end_note", None),
    ]
    assert history[0].outputs == {"text": "v1"}
    assert history[0].review.feedback == "shorter"
    assert history[1].review.status is ReviewStatus.APPROVED


def test_given_a_wait_with_no_execution_then_it_is_an_entry_of_its_own():
    history = merge_history(
        [execution("draft", 1, 2, {"text": "v1"})],
        [
            review("ask", 3, kind=ReviewKind.HUMAN_INPUT, settings={"inputs": []}),
            review(
                "confirm",
                0.5,
                kind=ReviewKind.HUMAN_INPUT,
                status=ReviewStatus.SUBMITTED,
                decided=0.8,
                inputs={"ok": True},
            ),
        ],
    )

    assert [(entry.node_id, entry.status) for entry in history] == [
        ("confirm", "succeeded"),
        ("draft", "succeeded"),
        ("ask", "paused"),
    ]
    assert history[0].outputs == {"ok": True}
    assert history[0].node_execution_id.endswith("#confirm#wait-001")


def test_given_a_failed_attempt_then_the_review_attaches_to_the_attempt_that_succeeded():
    history = merge_history(
        [
            execution("draft", 1, 2, failed=True),
            execution("draft", 2.5, 3, {"text": "ok"}, attempt=2),
        ],
        [review("draft", 4)],
    )

    assert [(entry.attempt, entry.review is not None) for entry in history] == [
        (1, False),
        (2, True),
    ]


# ------------------------------------------------------------------ where a retry resumes

BRANCHING: dict[str, Any] = {
    "name": "branching",
    "inputs": [{"variable": "name", "type": "string"}],
    "nodes": [
        {"id": "start", "type": "start"},
        {
            "id": "normalize",
            "type": "template-transform",
            "template": "{{ name }}",
            "variables": [{"variable": "name", "value_selector": ["start", "name"]}],
        },
        {
            "id": "has_name",
            "type": "if-else",
            "cases": [
                {
                    "case_id": "true",
                    "logical_operator": "and",
                    "conditions": [
                        {
                            "variable_selector": ["normalize", "output"],
                            "comparison_operator": "not empty",
                            "value": "",
                        }
                    ],
                }
            ],
        },
        {
            "id": "greet",
            "type": "template-transform",
            "template": "Hello, {{ name }}!",
            "variables": [{"variable": "name", "value_selector": ["normalize", "output"]}],
        },
        {
            "id": "end",
            "type": "end",
            "outputs": [{"variable": "greeting", "value_selector": ["greet", "output"]}],
        },
        {"id": "greet_world", "type": "template-transform", "template": "Hi!", "variables": []},
        {
            "id": "end_world",
            "type": "end",
            "outputs": [{"variable": "greeting", "value_selector": ["greet_world", "output"]}],
        },
    ],
    "edges": [
        {"source": "start", "target": "normalize"},
        {"source": "normalize", "target": "has_name"},
        {"source": "has_name", "source_handle": "true", "target": "greet"},
        {"source": "greet", "target": "end"},
        {"source": "has_name", "source_handle": "false", "target": "greet_world"},
        {"source": "greet_world", "target": "end_world"},
    ],
}


def test_given_a_run_that_failed_at_a_node_then_the_retry_gets_upstream_outputs_and_handles():
    executions = [
        execution("normalize", 1, 2, {"output": "Ada"}),
        execution("greet", 3, 4, failed=True),
    ]
    recorded = compose_variables(
        start_node_id="start", inputs={"name": "Ada"}, executions=executions, reviews=[]
    )

    point = resume_point(parse_workflow(BRANCHING), "greet", recorded, executions)

    assert point.from_node_id == "greet"
    assert point.variables == {"start": {"name": "Ada"}, "normalize": {"output": "Ada"}}
    assert point.taken == {"start": "source", "normalize": "source", "has_name": "true"}


def test_given_a_retry_from_an_earlier_node_then_everything_after_it_runs_again():
    executions = [
        execution("normalize", 1, 2, {"output": ""}),
        execution("greet_world", 3, 4, {"output": "Hi!"}),
    ]
    recorded = compose_variables(
        start_node_id="start", inputs={"name": ""}, executions=executions, reviews=[]
    )

    point = resume_point(parse_workflow(BRANCHING), "normalize", recorded, executions)

    assert point.variables == {"start": {"name": ""}}
    assert point.taken == {"start": "source"}
