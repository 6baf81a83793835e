"""Agno's workflow API over real HTTP: the workflow list and detail with Agno's fields, a run from
Agno's multipart form answered in Agno's shapes (JSON and `event:` + `data:` streams), sessions
sharing state across runs, and cancel."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.workflows import greeter, raising

pytestmark = pytest.mark.e2e

# Each run appends its message to the session's history: a conversation variable, read by the
# template and written by the assigner, that the runs of one session share.
DIARY = {
    "id": "diary",
    "name": "diary",
    "description": "Keeps a session's history.",
    "inputs": [{"variable": "message", "type": "string", "required": True}],
    "conversation_variables": [{"name": "history", "value_type": "string", "value": ""}],
    "nodes": [
        {"id": "start", "type": "start"},
        {
            "id": "append",
            "type": "template-transform",
            "title": "Append",
            "template": "{% if history %}{{ history }}|{% endif %}{{ message }}",
            "variables": [
                {"variable": "history", "value_selector": ["conversation", "history"]},
                {"variable": "message", "value_selector": ["start", "message"]},
            ],
        },
        {
            "id": "remember",
            "type": "assigner",
            "title": "Remember",
            "items": [
                {
                    "variable_selector": ["conversation", "history"],
                    "input_type": "variable",
                    "operation": "over-write",
                    "value": ["append", "output"],
                }
            ],
        },
        {
            "id": "end",
            "type": "end",
            "outputs": [{"variable": "history", "value_selector": ["conversation", "history"]}],
        },
    ],
    "edges": [
        {"source": "start", "target": "append"},
        {"source": "append", "target": "remember"},
        {"source": "remember", "target": "end"},
    ],
}


@pytest.fixture(scope="module")
def agno(local_cloud) -> Iterator[httpx.Client]:
    """A tenant of its own with the greeter, a reviewed greeter, a failing workflow and DIARY."""
    tenant_id = f"agno-{secrets.token_hex(4)}"
    headers = {"Authorization": f"Bearer {local_cloud.admin_key}"}
    with httpx.Client(base_url=local_cloud.base_url, headers=headers, timeout=60) as operator:
        created = operator.post(
            "/tenants", json={"name": tenant_id, "tenant_id": tenant_id, "plan": "enterprise"}
        )
        assert created.status_code == 201, created.text
        key = created.json()["key"]["key"]
    client = httpx.Client(
        base_url=local_cloud.base_url, headers={"Authorization": f"Bearer {key}"}, timeout=60
    )
    reviewed = greeter(id="reviewed", name="reviewed")
    reviewed["nodes"][1]["review"] = {"max_rounds": 1}
    try:
        for document in (greeter(), reviewed, raising(), DIARY):
            assert client.post("/workflows", json=document).status_code == 201
        yield client
    finally:
        client.close()


def form(**fields: str) -> dict[str, tuple[None, str]]:
    """Fields sent as multipart/form-data, as Agno's clients send them."""
    return {name: (None, value) for name, value in fields.items()}


def events_of(body: str) -> list[tuple[str, dict[str, Any]]]:
    """(name, data) of each `event:` + `data:` frame of an Agno stream."""
    frames = []
    for block in body.split("\n\n"):
        lines = [line for line in block.splitlines() if line and not line.startswith(":")]
        if not lines:
            continue
        assert lines[0].startswith("event: "), block
        assert lines[1].startswith("data: "), block
        frames.append((lines[0][len("event: ") :], json.loads(lines[1][len("data: ") :])))
    return frames


def test_given_workflows_then_the_list_and_detail_carry_agnos_fields(agno):
    listed = agno.get("/workflows").json()["data"]
    detail = agno.get("/workflows/greeter").json()

    greeter_entry = next(entry for entry in listed if entry["id"] == "greeter")
    assert {"id", "name", "description"} <= set(greeter_entry)
    assert (greeter_entry["name"], greeter_entry["description"]) == ("greeter", "Says hello.")
    assert (detail["id"], detail["name"], detail["description"]) == (
        "greeter",
        "greeter",
        "Says hello.",
    )


def test_given_agnos_form_without_stream_then_agnos_run_output(agno):
    answer = agno.post(
        "/workflows/greeter/runs", files=form(message="Ada", stream="false", user_id="u-7")
    )

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert {
        "run_id", "input", "session_id", "workflow_id", "workflow_name", "created_at", "content",
        "status", "step_results", "images", "videos", "audio", "metrics",
    } <= set(body)  # fmt: skip
    assert body["content"] == "Hello, Ada!"
    assert body["status"] == "COMPLETED"
    assert body["input"] == "Ada"
    assert (body["workflow_id"], body["workflow_name"]) == ("greeter", "greeter")
    assert body["session_id"]  # a new session
    assert isinstance(body["created_at"], int)
    assert body["step_results"] == [
        {
            "step_name": "greet",
            "content": "Hello, Ada!",
            "metrics": body["step_results"][0]["metrics"],
            "success": True,
        }
    ]
    assert isinstance(body["metrics"]["duration"], float)
    run = agno.get(f"/runs/{body['run_id']}").json()
    assert run["user"] == "u-7"
    assert run["inputs"]["name"] == "Ada"


def test_given_agnos_form_then_it_streams_by_default(agno):
    with agno.stream("POST", "/workflows/greeter/runs", files=form(message="Bo")) as answer:
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/event-stream")
        body = answer.read().decode()

    frames = events_of(body)
    names = [name for name, _ in frames]
    assert names == ["RunStarted", "StepStarted", "StepCompleted", "WorkflowCompleted"]
    started = frames[0][1]
    assert started["event"] == "RunStarted"
    assert started["workflow_name"] == "greeter" and started["session_id"]
    assert isinstance(started["created_at"], int)
    assert frames[1][1]["step_name"] == "greet"
    assert frames[2][1]["content"] == "Hello, Bo!"
    assert frames[3][1]["content"] == {"greeting": "Hello, Bo!"}["greeting"]
    assert frames[3][1]["status"] == "COMPLETED"
    assert {data["run_id"] for _, data in frames} == {started["run_id"]}


def test_given_a_failing_workflow_then_the_stream_tells_the_error(agno):
    with agno.stream("POST", "/workflows/raising/runs", files=form(message='{"n": 3}')) as answer:
        body = answer.read().decode()

    frames = events_of(body)
    names = [name for name, _ in frames]
    assert names[0] == "RunStarted" and names[-1] == "WorkflowError"
    assert "StepError" in names
    assert "cannot handle 3" in frames[-1][1]["error"]


def test_given_one_session_then_its_runs_share_state(agno):
    session = f"s-{secrets.token_hex(4)}"

    def say(message: str, session_id: str) -> dict[str, Any]:
        answer = agno.post(
            "/workflows/diary/runs",
            files=form(message=message, stream="false", session_id=session_id),
        )
        assert answer.status_code == 200, answer.text
        return answer.json()

    first = say("a", session)
    second = say("b", session)
    elsewhere = say("c", f"{session}-other")

    assert first["content"] == "a"
    assert second["content"] == "a|b"
    assert second["session_id"] == session
    assert elsewhere["content"] == "c"


def test_given_a_streamed_session_run_then_the_next_run_sees_its_state(agno):
    session = f"s-{secrets.token_hex(4)}"
    with agno.stream(
        "POST", "/workflows/diary/runs", files=form(message="x", session_id=session)
    ) as answer:
        answer.read()

    second = agno.post(
        "/workflows/diary/runs", files=form(message="y", stream="false", session_id=session)
    )

    assert second.json()["content"] == "x|y"


def test_given_a_paused_run_when_cancelled_then_it_stops(agno):
    started = agno.post("/workflows/reviewed/runs", files=form(message="Zed", stream="false"))
    assert started.json()["status"] == "PAUSED"
    run_id = started.json()["run_id"]

    wrong_workflow = agno.post(f"/workflows/greeter/runs/{run_id}/cancel")
    cancelled = agno.post(f"/workflows/reviewed/runs/{run_id}/cancel")
    again = agno.post(f"/workflows/reviewed/runs/{run_id}/cancel")

    assert wrong_workflow.status_code == 404
    assert cancelled.status_code == 200 and cancelled.json() == {}
    assert again.status_code == 200
    assert agno.get(f"/runs/{run_id}").json()["status"] == "stopped"


def test_given_bad_forms_then_400_and_404(agno):
    no_message = agno.post("/workflows/greeter/runs", files=form(stream="false"))
    bad_stream = agno.post("/workflows/greeter/runs", files=form(message="x", stream="maybe"))
    unknown = agno.post("/workflows/nope/runs", files=form(message="x", stream="false"))

    assert no_message.status_code == 400
    assert no_message.json()["code"] == "invalid_form"
    assert no_message.json()["field"] == "message"
    assert bad_stream.status_code == 400
    assert unknown.status_code == 404
