"""The Dify and Agno shapes, sessions' state rules, multipart parsing and Dify's error shape:
pure functions, no network."""

from __future__ import annotations

import base64
import json

import httpx
import pytest

from signoff.api.errors import error_response, is_dify_path, response_for
from signoff.difyapi import shapes
from signoff.difyapi.agno import AgnoRun, content_of, inputs_for_message, step_results
from signoff.difyapi.forms import InvalidForm, parse_multipart
from signoff.difyapi.sessions import SessionChanged, WorkflowSession, save_conversation
from signoff.difyapi.shapes import RunFacts
from signoff.difyapi.streaming import agno_events, agno_frame
from signoff.errors import FormSubmitted, InvalidInput, NotFound
from signoff.events.envelope import Event
from signoff.graph import parse_workflow
from signoff.store.node_executions import NodeExecution
from signoff.store.runs import RunRecord, RunStatus
from tests.support.workflows import greeter


def _greeter() -> dict:
    """The greeter's graph as stored (the id is the workflow record's, not the graph's)."""
    document = greeter()
    document.pop("id")
    return document


def _run(**changes) -> RunRecord:
    fields = {
        "tenant_id": "t",
        "run_id": "r-1",
        "workflow_id": "greeter",
        "workflow_version": 2,
        "status": RunStatus.SUCCEEDED,
        "inputs": {"name": "Ada"},
        "outputs": {"greeting": "Hello, Ada!"},
        "user": "u-1",
        "created_at": "2026-01-02T03:04:05.678Z",
        "finished_at": "2026-01-02T03:04:07.001Z",
        "total_tokens": 12,
    }
    return RunRecord(**{**fields, **changes})


def test_given_a_finished_run_then_the_blocking_answer_has_difys_types():
    body = shapes.blocking_response(RunFacts(_run(), elapsed_time=1.323, total_steps=3))

    assert body == {
        "task_id": "r-1",
        "workflow_run_id": "r-1",
        "data": {
            "id": "r-1",
            "workflow_id": "greeter",
            "status": "succeeded",
            "outputs": {"greeting": "Hello, Ada!"},
            "error": None,
            "elapsed_time": 1.323,
            "total_tokens": 12,
            "total_steps": 3,
            "created_at": 1767323045,
            "finished_at": 1767323047,
        },
    }


def test_given_a_failed_run_then_its_error_is_one_string_and_inputs_a_json_string():
    run = _run(
        status=RunStatus.FAILED,
        outputs=None,
        finished_at=None,
        error={"node_id": "n", "type": "CodeError", "message": "boom"},
    )

    detail = shapes.run_detail(RunFacts(run, elapsed_time=0.0))

    assert detail["error"] == "boom"
    assert detail["outputs"] == {}
    assert detail["finished_at"] is None
    assert json.loads(detail["inputs"]) == {"name": "Ada"}
    assert isinstance(detail["elapsed_time"], float)


def test_given_a_pending_run_then_dify_sees_it_running():
    assert shapes.dify_status(RunStatus.PENDING) == "running"
    assert shapes.dify_status(RunStatus.PARTIAL_SUCCEEDED) == "partial-succeeded"


def test_given_start_variables_then_difys_user_input_form():
    document = _greeter()
    document["inputs"].append(
        {"variable": "tone", "type": "select", "options": ["warm", "dry"], "label": "Tone"}
    )

    form = shapes.user_input_form(parse_workflow(document))

    assert [next(iter(entry)) for entry in form] == ["text-input", "number", "select"]
    assert form[2]["select"] == {
        "label": "Tone",
        "variable": "tone",
        "required": False,
        "default": "",
        "type": "select",
        "options": ["warm", "dry"],
    }


@pytest.mark.parametrize(
    ("page", "limit", "total", "has_more"), [(1, 2, 3, True), (2, 2, 3, False), (1, 20, 0, False)]
)
def test_given_a_page_then_has_more_says_whether_runs_follow(page, limit, total, has_more):
    assert shapes.logs_page([], page=page, limit=limit, total=total)["has_more"] is has_more


def test_given_an_end_user_run_then_the_log_entry_names_the_end_user():
    entry = shapes.log_entry(RunFacts(_run(), elapsed_time=1.0, total_steps=1))

    assert entry["created_by_role"] == "end_user"
    assert entry["created_by_end_user"]["session_id"] == "u-1"
    assert entry["workflow_run"]["version"] == "2"


# ---------------------------------------------------------------- Dify's error shape


def test_given_a_v1_path_then_errors_take_difys_shape_and_codes():
    answer = response_for(InvalidInput("user is required", field="user"), path="/v1/workflows/run")

    assert answer.status_code == 400
    assert answer.body == {
        "status": 400,
        "code": "invalid_param",
        "message": "user is required",
        "error_code": 1000,
    }


def test_given_a_native_path_then_errors_keep_signoffs_shape():
    answer = response_for(NotFound("run x not found"), path="/runs/x")

    assert answer.body == {
        "status": 404,
        "code": "not_found",
        "message": "run x not found",
        "error_code": 3000,
    }


def test_given_a_submitted_form_then_dify_answers_412_and_native_409():
    dify = response_for(FormSubmitted("done"), path="/v1/form/human_input/tok")
    native = response_for(FormSubmitted("done"), path="/forms/tok")

    assert (dify.status_code, dify.body["code"]) == (412, "human_input_form_submitted")
    assert native.status_code == 409


def test_given_an_internal_error_under_v1_then_difys_code():
    answer = error_response(500, "internal_error", "an internal error occurred", dify=True)

    assert answer.body["code"] == "internal_server_error"
    assert is_dify_path("/v1/info") and not is_dify_path("/v10/info")
    assert not is_dify_path("/workflows")


# ---------------------------------------------------------------- Agno


def test_given_a_message_then_it_goes_to_the_first_text_input():
    workflow = parse_workflow(_greeter())

    assert inputs_for_message(workflow, "Ada") == {"name": "Ada"}
    assert inputs_for_message(workflow, '{"name": "Bo", "times": 2}') == {"name": "Bo", "times": 2}


def test_given_a_workflow_without_a_text_input_then_a_plain_message_is_refused():
    document = _greeter()
    document["inputs"] = [{"variable": "n", "type": "number", "required": True}]
    document["nodes"][1]["variables"] = []
    document["nodes"][1]["template"] = "Hello"

    with pytest.raises(InvalidInput) as refused:
        inputs_for_message(parse_workflow(document), "three")

    assert refused.value.field == "message"


def test_given_outputs_then_agnos_content_is_the_one_value_or_all():
    assert content_of({"greeting": "hi"}) == "hi"
    assert content_of({"a": 1, "b": 2}) == {"a": 1, "b": 2}
    assert content_of({}) is None


def test_given_node_executions_then_one_step_result_per_node_its_latest_attempt():
    def execution(node_id: str, attempt: int, status: str, outputs=None, error=None):
        return NodeExecution(
            node_execution_id=f"0#{node_id}#{attempt:03d}",
            tenant_id="t",
            run_id="r",
            node_id=node_id,
            node_type="code",
            title=node_id.title(),
            attempt=attempt,
            status=status,
            outputs=outputs,
            error=error,
            started_at="2026-01-01T00:00:00.000Z",
            elapsed_ms=250,
        )

    results = step_results(
        [
            execution("fetch", 1, "failed", error={"type": "Timeout", "message": "timeout"}),
            execution("fetch", 2, "succeeded", outputs={"body": "ok"}),
            execution("parse", 1, "failed", error={"type": "CodeError", "message": "bad json"}),
        ]
    )

    assert results == [
        {"step_name": "Fetch", "content": "ok", "metrics": {"duration": 0.25}, "success": True},
        {
            "step_name": "Parse",
            "content": "bad json",
            "metrics": {"duration": 0.25},
            "success": False,
        },
    ]


def test_given_lifecycle_events_then_agnos_stream_events():
    agno_run = AgnoRun(run=_run(), session_id="s-1", message="Ada", workflow_name="greeter")

    def event(kind: str, data: dict, node_id: str | None = None) -> Event:
        return Event(
            id="evt_" + "1" * 32,
            type=kind,
            time="2026-01-02T03:04:05.678Z",
            tenant="t",
            workflow_id="greeter",
            run_id="r-1",
            node_id=node_id,
            sequence=1,
            data=data,
        )

    started = agno_events(event("run.started", {}), agno_run)
    step = agno_events(
        event("node.succeeded", {"title": "Greet", "outputs": {"output": "hi"}}, "greet"), agno_run
    )
    failed = agno_events(
        event("run.failed", {"error": {"message": "boom"}, "outputs": {}}), agno_run
    )

    assert started == [
        (
            "RunStarted",
            {
                "run_id": "r-1",
                "session_id": "s-1",
                "workflow_id": "greeter",
                "workflow_name": "greeter",
                "created_at": 1767323045,
                "input": "Ada",
            },
        )
    ]
    assert step[0][0] == "StepCompleted"
    assert (step[0][1]["step_name"], step[0][1]["content"]) == ("Greet", "hi")
    base = {key: value for key, value in started[0][1].items() if key != "input"}
    assert failed == [("WorkflowError", {**base, "error": "boom", "status": "ERROR"})]
    frame = agno_frame("RunStarted", {"run_id": "r-1"})
    assert frame == b'event: RunStarted\ndata: {"event":"RunStarted","run_id":"r-1"}\n\n'


# ---------------------------------------------------------------- sessions


def test_given_a_session_when_a_run_saves_its_conversation_then_the_state_takes_its_values():
    store = MemorySessionStore()
    store.save(
        WorkflowSession(
            tenant_id="t", workflow_id="w", session_id="s", state={"visits": 1, "kept": "x"}
        )
    )

    saved = save_conversation(
        store,
        tenant_id="t",
        workflow_id="w",
        session_id="s",
        run_id="r-2",
        conversation={"visits": 2},
    )

    assert saved.state == {"visits": 2, "kept": "x"}
    assert (saved.applied_run_id, saved.version) == ("r-2", 2)


def test_given_no_session_when_a_run_saves_its_conversation_then_the_session_is_created():
    store = MemorySessionStore()

    save_conversation(
        store, tenant_id="t", workflow_id="w", session_id="s", run_id="r", conversation={"n": 1}
    )

    assert store.find("t", "w", "s").state == {"n": 1}


class MemorySessionStore:
    """The SessionStore contract over a dict: a save must follow the version it read."""

    def __init__(self) -> None:
        self.sessions: dict[tuple[str, str, str], WorkflowSession] = {}

    def find(self, tenant_id: str, workflow_id: str, session_id: str) -> WorkflowSession | None:
        return self.sessions.get((tenant_id, workflow_id, session_id))

    def save(self, session: WorkflowSession) -> WorkflowSession:
        key = (session.tenant_id, session.workflow_id, session.session_id)
        current = self.sessions.get(key)
        if (current.version if current else 0) != session.version:
            raise SessionChanged("changed")
        stored = session.model_copy(update={"version": session.version + 1})
        self.sessions[key] = stored
        return stored


# ---------------------------------------------------------------- multipart


def _event_of(request: httpx.Request, *, as_base64: bool) -> dict:
    body = request.read()
    return {
        "headers": {"Content-Type": request.headers["content-type"]},
        "body": base64.b64encode(body).decode() if as_base64 else body.decode("utf-8"),
        "isBase64Encoded": as_base64,
    }


@pytest.mark.parametrize("as_base64", [True, False])
def test_given_a_multipart_form_then_its_fields_and_files(as_base64):
    request = httpx.Request(
        "POST",
        "http://signoff/v1/files/upload",
        data={"user": "ü-1"},
        files={"file": ("notes.txt", "é notes".encode(), "text/plain")},
    )

    form = parse_multipart(_event_of(request, as_base64=as_base64))

    assert form.fields == {"user": "ü-1"}
    upload = form.files["file"]
    assert (upload.filename, upload.content_type, upload.content) == (
        "notes.txt",
        "text/plain",
        "é notes".encode(),
    )


def test_given_a_json_body_then_it_is_no_form():
    with pytest.raises(InvalidForm):
        parse_multipart({"headers": {"Content-Type": "application/json"}, "body": "{}"})
