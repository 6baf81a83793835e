"""Lifecycle envelopes as Dify's SSE events, field by field (the shapes in Dify's wire format)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from signoff.events.dify_sse import (
    PING_FRAME,
    dify_error_event,
    dify_stream_events,
    sse_frame,
    truncated,
)
from signoff.events.envelope import EVENT_TYPES, Event, new_event_id

T0 = "2025-01-02T03:04:05.678Z"
T0_UNIX = 1735787045
T1 = "2025-01-02T03:04:07.000Z"
T1_UNIX = 1735787047
REF = {
    "$signoff_ref": {"bucket": "b", "key": "t/r/x/abc.json", "size": 5100002, "sha256": "0" * 64}
}


def envelope(type_: str, data: dict[str, Any], *, node_id: str | None = None, sequence: int = 7):
    return Event(
        id=new_event_id(),
        type=type_,
        time=T1,
        tenant="t1",
        workflow_id="wf-1",
        run_id="run-1",
        node_id=node_id,
        sequence=sequence,
        data=data,
    )


def only(event: Event) -> dict[str, Any]:
    events = dify_stream_events(event, task_id="task-1")
    assert len(events) == 1
    (dify,) = events
    assert set(dify) == {"event", "task_id", "workflow_run_id", "data"}
    assert (dify["task_id"], dify["workflow_run_id"]) == ("task-1", "run-1")
    return dify


NODE_STARTED = {
    "node_execution_id": "0001735787045678#greet#001",
    "node_type": "template-transform",
    "title": "Greet",
    "attempt": 1,
    "inputs": {"name": "Ada"},
    "created_at": T0,
    "iteration_id": None,
    "iteration_index": None,
    "loop_id": None,
    "loop_index": None,
    "predecessor_node_id": "start",
}
NODE_STARTED_DATA = {
    "id": "0001735787045678#greet#001",
    "node_id": "greet",
    "node_type": "template-transform",
    "title": "Greet",
    "index": 7,
    "predecessor_node_id": "start",
    "inputs": {"name": "Ada"},
    "inputs_truncated": False,
    "created_at": T0_UNIX,
    "extras": {},
    "iteration_id": None,
    "loop_id": None,
}


def node_finished(status: str, **changes: Any) -> dict[str, Any]:
    return {
        **NODE_STARTED,
        "status": status,
        "outputs": {"output": "Hello Ada"},
        "error": None,
        "error_type": None,
        "elapsed_time": 0.25,
        "finished_at": T1,
        "usage": None,
        **changes,
    }


def test_run_started_is_workflow_started():
    event = envelope(
        "run.started",
        {
            "inputs": {"name": "Ada"},
            "workflow_version": 3,
            "mode": "normal",
            "user": "u-1",
            "created_at": T0,
            "retry_of": None,
        },
    )

    assert only(event) == {
        "event": "workflow_started",
        "task_id": "task-1",
        "workflow_run_id": "run-1",
        "data": {
            "id": "run-1",
            "workflow_id": "wf-1",
            "inputs": {"name": "Ada"},
            "created_at": T0_UNIX,
            "reason": "initial",
        },
    }


def test_run_resumed_is_workflow_started_for_a_resumption():
    dify = only(envelope("run.resumed", {"review_id": "rv-1", "node_id": "draft"}))

    assert dify["event"] == "workflow_started"
    assert dify["data"] == {
        "id": "run-1",
        "workflow_id": "wf-1",
        "inputs": {},
        "created_at": T1_UNIX,
        "reason": "resumption",
    }


def test_node_started_has_every_dify_field():
    dify = only(envelope("node.started", NODE_STARTED, node_id="greet"))

    assert dify["event"] == "node_started"
    assert dify["data"] == NODE_STARTED_DATA


@pytest.mark.parametrize(
    ("type_", "status"),
    [("node.succeeded", "succeeded"), ("node.failed", "failed"), ("node.exception", "exception")],
)
def test_node_ends_are_node_finished_with_their_status(type_: str, status: str):
    data = node_finished(
        status, usage={"total_tokens": 12, "total_price": "0.024", "currency": "USD"}
    )
    if status != "succeeded":
        data.update(error="CodeExecutionError: boom", error_type="CodeExecutionError")

    dify = only(envelope(type_, data, node_id="greet"))

    assert dify["event"] == "node_finished"
    assert dify["data"] == {
        **NODE_STARTED_DATA,
        "process_data": None,
        "process_data_truncated": False,
        "outputs": {"output": "Hello Ada"},
        "outputs_truncated": False,
        "status": status,
        "error": None if status == "succeeded" else "CodeExecutionError: boom",
        "elapsed_time": 0.25,
        "execution_metadata": {"total_tokens": 12, "total_price": "0.024", "currency": "USD"},
        "finished_at": T1_UNIX,
        "files": [],
    }
    assert isinstance(dify["data"]["elapsed_time"], float)


def test_node_retrying_is_node_retry_with_a_zero_based_retry_index():
    data = node_finished("failed", attempt=2, error="boom", outputs=None)

    dify = only(envelope("node.retrying", data, node_id="greet"))

    assert dify["event"] == "node_retry"
    assert dify["data"]["retry_index"] == 1
    assert dify["data"]["status"] == "retry"
    assert dify["data"]["outputs"] is None
    assert dify["data"]["error"] == "boom"
    assert set(dify["data"]) == set(NODE_STARTED_DATA) | {
        "process_data",
        "process_data_truncated",
        "outputs",
        "outputs_truncated",
        "status",
        "error",
        "elapsed_time",
        "execution_metadata",
        "finished_at",
        "files",
        "retry_index",
    }


@pytest.mark.parametrize(
    ("type_", "status"),
    [
        ("run.succeeded", "succeeded"),
        ("run.partial_succeeded", "partial-succeeded"),
        ("run.failed", "failed"),
        ("run.stopped", "stopped"),
    ],
)
def test_run_ends_are_workflow_finished(type_: str, status: str):
    error = {"node_id": "code", "type": "CodeExecutionError", "message": "boom"}
    data = {
        "status": status,
        "outputs": {"greeting": "Hello Ada"},
        "error": error if status == "failed" else None,
        "created_at": T0,
        "finished_at": T1,
        "elapsed_time": 1.322,
        "total_tokens": 30,
        "total_price": "0.06",
        "currency": "USD",
        "total_steps": 3,
        "exceptions_count": 1 if status == "partial-succeeded" else 0,
    }

    dify = only(envelope(type_, data))

    assert dify["event"] == "workflow_finished"
    assert dify["data"] == {
        "id": "run-1",
        "workflow_id": "wf-1",
        "status": status,
        "outputs": {"greeting": "Hello Ada"},
        "error": "CodeExecutionError: boom" if status == "failed" else None,
        "elapsed_time": 1.322,
        "total_tokens": 30,
        "total_steps": 3,
        "created_at": T0_UNIX,
        "finished_at": T1_UNIX,
        "created_by": {},
        "exceptions_count": 1 if status == "partial-succeeded" else 0,
        "files": [],
    }


def test_run_paused_is_workflow_paused_naming_the_node_and_why():
    dify = only(envelope("run.paused", {"review_id": "rv-1", "node_id": "draft", "kind": "review"}))

    assert dify["event"] == "workflow_paused"
    assert dify["data"] == {
        "workflow_run_id": "run-1",
        "paused_nodes": ["draft"],
        "outputs": {},
        "reasons": [{"type": "review_required", "node_id": "draft", "review_id": "rv-1"}],
        "status": "paused",
        "created_at": T1_UNIX,
        "elapsed_time": 0.0,
        "total_tokens": 0,
        "total_steps": 0,
    }


def test_a_human_input_pause_and_its_form():
    paused = only(
        envelope("run.paused", {"review_id": "rv-2", "node_id": "ask", "kind": "human-input"})
    )
    form = {
        "form_token": "tok",
        "form_content": "Approve {{#$output.reason#}}?",
        "inputs": [
            {
                "type": "paragraph",
                "output_variable_name": "reason",
                "default": {"type": "constant", "selector": [], "value": ""},
            }
        ],
        "actions": [{"id": "approve", "title": "Approve", "button_style": "primary"}],
        "expiration_time": T1,
    }
    requested = envelope(
        "review.requested",
        {
            "review_id": "rv-2",
            "kind": "human-input",
            "round": 1,
            "outputs": {},
            "created_at": T0,
            "expires_at": T1,
            "form": form,
            "title": "Ask a person",
        },
        node_id="ask",
    )

    assert paused["data"]["reasons"] == [
        {"type": "human_input_required", "node_id": "ask", "review_id": "rv-2", "form_id": "rv-2"}
    ]
    dify = only(requested)
    assert dify["event"] == "human_input_required"
    assert dify["data"] == {
        "form_id": "rv-2",
        "form_token": "tok",
        "node_id": "ask",
        "node_title": "Ask a person",
        "form_content": "Approve {{#$output.reason#}}?",
        "inputs": form["inputs"],
        "actions": form["actions"],
        "display_in_ui": True,
        "resolved_default_values": {},
        "expiration_time": T1_UNIX,
    }


def test_a_submitted_form_and_a_timed_out_one():
    submitted = envelope(
        "review.submitted",
        {
            "review_id": "rv-2",
            "kind": "human-input",
            "round": 1,
            "decided_by": "key-1",
            "decided_at": T1,
            "feedback": None,
            "outputs": {"reason": "ok"},
            "action_id": "approve",
            "inputs": {"reason": "ok"},
        },
        node_id="ask",
    )
    timed_out = envelope(
        "review.timed_out",
        {"review_id": "rv-2", "kind": "human-input", "round": 1, "on_timeout": "fail"},
        node_id="ask",
    )

    assert only(submitted) == {
        "event": "human_input_form_filled",
        "task_id": "task-1",
        "workflow_run_id": "run-1",
        "data": {
            "node_id": "ask",
            "node_title": "ask",
            "rendered_content": "",
            "action_id": "approve",
            "action_text": "approve",
            "submitted_data": {"reason": "ok"},
        },
    }
    assert only(timed_out)["data"] == {
        "node_id": "ask",
        "node_title": "ask",
        "expiration_time": T1_UNIX,
    }


@pytest.mark.parametrize(
    "type_", ["review.approved", "review.revised", "review.edited", "review.requested"]
)
def test_review_decisions_of_a_plain_review_have_no_dify_event(type_: str):
    data = {"review_id": "rv-1", "kind": "review", "round": 1}

    assert dify_stream_events(envelope(type_, data, node_id="draft"), task_id="task-1") == []


@pytest.mark.parametrize("kind", ["iteration", "loop"])
def test_iteration_and_loop_progress(kind: str):
    base = {"node_type": kind, "title": "Each", "inputs": {"items": [1, 2]}, "created_at": T0}
    started = only(envelope(f"{kind}.started", {**base, "index": 0}, node_id="each"))
    following = only(
        envelope(f"{kind}.next", {**base, "index": 1, "outputs": {"v": 1}}, node_id="each")
    )
    completed = only(
        envelope(
            f"{kind}.completed",
            {
                **base,
                "index": 2,
                "outputs": {"output": [1, 2]},
                "status": "succeeded",
                "error": None,
                "elapsed_time": 0.5,
                "finished_at": T1,
            },
            node_id="each",
        )
    )

    assert started["event"] == f"{kind}_started"
    assert started["data"] == {
        "id": "run-1:each",
        "node_id": "each",
        "node_type": kind,
        "title": "Each",
        "created_at": T0_UNIX,
        "inputs": {"items": [1, 2]},
        "inputs_truncated": False,
        "metadata": {},
        "extras": {},
    }
    assert following["event"] == f"{kind}_next"
    expected_next = {
        "id": "run-1:each",
        "node_id": "each",
        "node_type": kind,
        "title": "Each",
        "index": 1,
        "created_at": T0_UNIX,
        "extras": {},
    }
    if kind == "loop":
        expected_next["pre_loop_output"] = {"v": 1}
    assert following["data"] == expected_next
    assert completed["event"] == f"{kind}_completed"
    assert completed["data"] == {
        "id": "run-1:each",
        "node_id": "each",
        "node_type": kind,
        "title": "Each",
        "outputs": {"output": [1, 2]},
        "outputs_truncated": False,
        "inputs": {"items": [1, 2]},
        "inputs_truncated": False,
        "created_at": T0_UNIX,
        "extras": {},
        "status": "succeeded",
        "error": None,
        "elapsed_time": 0.5,
        "total_tokens": 0,
        "execution_metadata": {},
        "finished_at": T1_UNIX,
        "steps": 2,
    }


def test_every_envelope_type_maps_without_error():
    for type_ in EVENT_TYPES:
        events = dify_stream_events(envelope(type_, {}, node_id="n"), task_id="task-1")
        for dify in events:
            json.dumps(dify)
            assert isinstance(dify["data"], dict)


def test_large_values_become_markers_and_the_event_says_they_were_truncated():
    data = node_finished("succeeded", inputs={"doc": REF, "n": 1}, outputs=REF)

    dify = only(envelope("node.succeeded", data, node_id="greet"))

    assert dify["data"]["inputs"] == {"doc": "[truncated: 5100002 bytes]", "n": 1}
    assert dify["data"]["inputs_truncated"] is True
    assert dify["data"]["outputs"] == {}
    assert dify["data"]["outputs_truncated"] is True
    assert "$signoff_ref" not in json.dumps(dify)


def test_truncated_finds_references_at_any_depth():
    value, found = truncated({"a": [{"b": REF}], "c": "x"})

    assert found is True
    assert value == {"a": [{"b": "[truncated: 5100002 bytes]"}], "c": "x"}
    assert truncated({"a": 1}) == ({"a": 1}, False)


def test_sse_frame_carries_the_sequence_as_its_id_and_one_line_of_json():
    frame = sse_frame({"event": "node_started", "text": "two\nlines"}, event_id=12)

    assert frame == b'id: 12\ndata: {"event":"node_started","text":"two\\nlines"}\n\n'
    assert sse_frame({"a": 1}) == b'data: {"a":1}\n\n'
    assert PING_FRAME == b"event: ping\n\n"


def test_the_error_event_has_status_code_and_message_at_the_top_level():
    assert dify_error_event(
        task_id="task-1",
        workflow_run_id="run-1",
        status=500,
        code="internal_error",
        message="an internal error occurred",
    ) == {
        "event": "error",
        "task_id": "task-1",
        "workflow_run_id": "run-1",
        "status": 500,
        "code": "internal_error",
        "message": "an internal error occurred",
    }
