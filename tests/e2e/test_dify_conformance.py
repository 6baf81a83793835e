"""Conformance with Dify's Service API: Dify's own Python SDK (`dify-client` from PyPI) drives the
/v1 routes of a real `signoff dev`, and every streamed event is checked field by field against the
tables of the Dify wire notes (types, Unix-second ints, float elapsed times, the ping line, the
stream closing).

The SDK's newest release on PyPI (0.1.10) has DifyClient (parameters, file upload) but no
WorkflowClient; its workflow calls are made through the SDK's own transport
(`DifyClient._send_request`, which every SDK method uses), with the paths and bodies Dify's
WorkflowClient sends.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from dify_client import DifyClient

from tests.support.workflows import greeter

pytestmark = pytest.mark.e2e

# ---------------------------------------------------------------- the wire notes' tables

TOP_LEVEL = {"event", "task_id", "workflow_run_id", "data"}
NODE_STARTED = {
    "id", "node_id", "node_type", "title", "index", "predecessor_node_id", "inputs",
    "inputs_truncated", "created_at", "extras", "iteration_id", "loop_id",
}  # fmt: skip
NODE_FINISHED = NODE_STARTED | {
    "process_data", "process_data_truncated", "outputs", "outputs_truncated", "status", "error",
    "elapsed_time", "execution_metadata", "finished_at", "files",
}  # fmt: skip
PROGRESS_STARTED = {
    "id", "node_id", "node_type", "title", "created_at", "inputs", "inputs_truncated",
    "metadata", "extras",
}  # fmt: skip
PROGRESS_NEXT = {"id", "node_id", "node_type", "title", "index", "created_at", "extras"}
PROGRESS_COMPLETED = {
    "id", "node_id", "node_type", "title", "outputs", "outputs_truncated", "inputs",
    "inputs_truncated", "created_at", "extras", "status", "error", "elapsed_time",
    "total_tokens", "execution_metadata", "finished_at", "steps",
}  # fmt: skip
DATA_FIELDS: dict[str, set[str]] = {
    "workflow_started": {"id", "workflow_id", "inputs", "created_at", "reason"},
    "node_started": NODE_STARTED,
    "node_finished": NODE_FINISHED,
    "node_retry": NODE_FINISHED | {"retry_index"},
    "iteration_started": PROGRESS_STARTED,
    "loop_started": PROGRESS_STARTED,
    "iteration_next": PROGRESS_NEXT,
    "loop_next": PROGRESS_NEXT | {"pre_loop_output"},
    "iteration_completed": PROGRESS_COMPLETED,
    "loop_completed": PROGRESS_COMPLETED,
    "human_input_required": {
        "form_id",
        "form_token",
        "node_id",
        "node_title",
        "form_content",
        "inputs",
        "actions",
        "display_in_ui",
        "resolved_default_values",
        "expiration_time",
    },
    "workflow_paused": {
        "workflow_run_id",
        "paused_nodes",
        "outputs",
        "reasons",
        "status",
        "created_at",
        "elapsed_time",
        "total_tokens",
        "total_steps",
    },
    "workflow_finished": {
        "id",
        "workflow_id",
        "status",
        "outputs",
        "error",
        "elapsed_time",
        "total_tokens",
        "total_steps",
        "created_at",
        "finished_at",
        "created_by",
        "exceptions_count",
        "files",
    },
}
TIME_FIELDS = ("created_at", "finished_at")
FLOAT_FIELDS = ("elapsed_time",)
NODE_STATUSES = {"running", "succeeded", "failed", "stopped", "exception", "retry"}
WORKFLOW_STATUSES = {"succeeded", "failed", "stopped", "partial-succeeded"}
CLOSING_EVENTS = {"workflow_finished", "workflow_paused", "error"}


def check_event(event: dict[str, Any]) -> None:
    """One streamed event against the tables: its fields and their types."""
    name = event["event"]
    if name == "error":
        assert {"status", "code", "message"} <= set(event), event
        return
    if name == "text_chunk":
        assert {"text", "from_variable_selector"} <= set(event["data"]), event
        return
    assert set(event) >= TOP_LEVEL, event
    assert isinstance(event["task_id"], str) and isinstance(event["workflow_run_id"], str)
    assert name in DATA_FIELDS, f"an event type outside the wire notes: {name}"
    data = event["data"]
    missing = DATA_FIELDS[name] - set(data)
    assert not missing, f"{name} lacks {sorted(missing)}"
    for field in TIME_FIELDS:
        if field in data and data[field] is not None:
            assert type(data[field]) is int, f"{name}.{field} is not Unix seconds: {data[field]!r}"
            assert abs(data[field] - time.time()) < 3600, f"{name}.{field} is not seconds"
    for field in FLOAT_FIELDS:
        if field in data:
            assert type(data[field]) is float, f"{name}.{field} is not a float: {data[field]!r}"
    if name in ("node_finished", "node_retry"):
        assert data["status"] in NODE_STATUSES, data["status"]
        # Dify sends a node's usage when it has one (model nodes), an empty map otherwise.
        metadata = data["execution_metadata"] or {}
        assert isinstance(metadata, dict)
        if "total_tokens" in metadata:
            assert type(metadata["total_tokens"]) is int
    if name == "node_retry":
        assert type(data["retry_index"]) is int and data["retry_index"] >= 0
    if name == "workflow_finished":
        assert data["status"] in WORKFLOW_STATUSES
    if name == "workflow_started":
        assert data["reason"] in ("initial", "resumption")
    if name == "workflow_paused":
        assert data["status"] == "paused"


def read_stream(lines: Iterator[str]) -> tuple[list[dict[str, Any]], list[str]]:
    """The events of an SSE stream, read to its end, and every non-empty line as sent."""
    events: list[dict[str, Any]] = []
    raw: list[str] = []
    for line in lines:
        if not line:
            continue
        raw.append(line)
        if line.startswith("data: "):
            events.append(json.loads(line[len("data: ") :]))
        else:
            assert line.startswith(("id: ", "event: ping")), f"an unexpected SSE line: {line!r}"
    return events, raw


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def app_keys(local_cloud) -> dict[str, str]:
    """App keys of the local cloud's example workflows (the default tenant)."""
    keys: dict[str, str] = {}
    headers = {"Authorization": f"Bearer {local_cloud.admin_key}"}
    with httpx.Client(base_url=local_cloud.base_url, headers=headers, timeout=60) as admin:
        for workflow_id in (
            "hello",
            "iteration",
            "loop",
            "retry",
            "review",
            "document_extractor",
            "human_input",
        ):
            created = admin.post(
                "/keys",
                json={
                    "name": f"sdk-{workflow_id}-{secrets.token_hex(3)}",
                    "role": "app",
                    "workflow_id": workflow_id,
                },
            )
            assert created.status_code == 201, created.text
            keys[workflow_id] = created.json()["key"]
    return keys


def sdk(local_cloud, key: str) -> DifyClient:
    client = DifyClient(key)
    client.base_url = f"{local_cloud.base_url}/v1"
    return client


def run(client: DifyClient, inputs: dict[str, Any], *, streaming: bool, user: str = "sdk-user"):
    """What Dify's WorkflowClient.run sends."""
    body = {
        "inputs": inputs,
        "response_mode": "streaming" if streaming else "blocking",
        "user": user,
    }
    return client._send_request("POST", "/workflows/run", body, stream=streaming)


def streamed(client: DifyClient, inputs: dict[str, Any]) -> tuple[list[dict], list[str]]:
    response = run(client, inputs, streaming=True)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    events, raw = read_stream(response.iter_lines(decode_unicode=True))
    for event in events:
        check_event(event)
    return events, raw


# ---------------------------------------------------------------- the SDK


def test_given_dify_sdk_when_run_blocking_then_it_reads_the_finished_run(local_cloud, app_keys):
    client = sdk(local_cloud, app_keys["hello"])

    answer = run(client, {"name": "SDK"}, streaming=False)

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["data"]["status"] == "succeeded"
    assert body["data"]["outputs"]["greeting"] == "Hello, SDK!"
    detail = client._send_request("GET", f"/workflows/run/{body['workflow_run_id']}")
    assert detail.status_code == 200
    assert json.loads(detail.json()["inputs"])["name"] == "SDK"


def test_given_dify_sdk_then_parameters_info_and_meta(local_cloud, app_keys):
    client = sdk(local_cloud, app_keys["hello"])

    parameters = client.get_application_parameters("sdk-user")
    info = client._send_request("GET", "/info")
    meta = client._send_request("GET", "/meta")

    assert parameters.status_code == 200
    form = parameters.json()["user_input_form"]
    assert next(iter(form[0])) == "text-input"
    assert form[0]["text-input"]["variable"] == "name"
    assert info.json()["mode"] == "workflow" and info.json()["name"]
    assert meta.json() == {"tool_icons": {}}


def test_given_dify_sdk_when_a_file_is_uploaded_then_a_run_reads_it(local_cloud, app_keys):
    client = sdk(local_cloud, app_keys["document_extractor"])
    parameters = client.get_application_parameters("sdk-user").json()
    file_input = next(iter(parameters["user_input_form"][0].values()))["variable"]

    uploaded = client.file_upload(
        "sdk-user", {"file": ("hi.txt", b"hello from the SDK", "text/plain")}
    )

    assert uploaded.status_code == 201, uploaded.text
    upload_id = uploaded.json()["id"]
    value = {"type": "document", "transfer_method": "local_file", "upload_file_id": upload_id}
    answer = run(client, {file_input: value}, streaming=False)
    assert answer.status_code == 200, answer.text
    assert "hello from the SDK" in json.dumps(answer.json()["data"]["outputs"])


def test_given_dify_sdk_when_a_paused_task_is_stopped_then_success(local_cloud, app_keys):
    client = sdk(local_cloud, app_keys["review"])
    events, _ = streamed(client, {"topic": "stopping"})
    assert events[-1]["event"] == "workflow_paused"
    task_id = events[0]["task_id"]

    stopped = client._send_request("POST", f"/workflows/tasks/{task_id}/stop", {"user": "sdk-user"})

    assert stopped.status_code == 200
    assert stopped.json() == {"result": "success"}
    detail = client._send_request("GET", f"/workflows/run/{task_id}").json()
    assert detail["status"] == "stopped"


# ---------------------------------------------------------------- the stream, field by field


def test_given_a_streaming_run_then_every_event_matches_the_tables(local_cloud, app_keys):
    events, raw = streamed(sdk(local_cloud, app_keys["hello"]), {"name": "Stream"})

    names = [event["event"] for event in events]
    assert names[0] == "workflow_started"
    assert names[-1] == "workflow_finished"
    assert "node_started" in names and "node_finished" in names
    assert {event["task_id"] for event in events} == {events[0]["workflow_run_id"]}
    assert events[-1]["data"]["outputs"]["greeting"] == "Hello, Stream!"
    # each data line follows its id line: the stream's ids are the event log's sequence
    ids = [int(line[len("id: ") :]) for line in raw if line.startswith("id: ")]
    assert ids == sorted(ids) and len(ids) == len(events)


def test_given_an_iteration_and_a_loop_then_their_streams_match_the_tables(local_cloud, app_keys):
    iteration, _ = streamed(sdk(local_cloud, app_keys["iteration"]), {"names": ["a", "b"]})
    loop, _ = streamed(sdk(local_cloud, app_keys["loop"]), {"start_value": 1, "limit": 5})

    assert iteration[-1]["event"] == loop[-1]["event"] == "workflow_finished"
    assert iteration[-1]["data"]["status"] == loop[-1]["data"]["status"] == "succeeded"


def test_given_an_iteration_and_a_loop_then_their_progress_events_are_streamed(
    local_cloud, app_keys
):
    iteration, _ = streamed(sdk(local_cloud, app_keys["iteration"]), {"names": ["a", "b"]})
    loop, _ = streamed(sdk(local_cloud, app_keys["loop"]), {"start_value": 1, "limit": 5})

    iteration_names = {event["event"] for event in iteration}
    loop_names = {event["event"] for event in loop}
    assert {"iteration_started", "iteration_next", "iteration_completed"} <= iteration_names
    assert {"loop_started", "loop_next", "loop_completed"} <= loop_names


def test_given_a_retried_node_then_node_retry_matches_the_table(local_cloud, app_keys):
    events, _ = streamed(sdk(local_cloud, app_keys["retry"]), {"fail": True})

    retries = [event for event in events if event["event"] == "node_retry"]
    assert retries, [event["event"] for event in events]
    assert [event["data"]["retry_index"] for event in retries] == list(range(len(retries)))
    assert events[-1]["event"] == "workflow_finished"


def test_given_a_pause_then_the_stream_closes_and_a_reattach_pings(local_cloud, app_keys):
    client = sdk(local_cloud, app_keys["review"])
    events, _ = streamed(client, {"topic": "pings"})
    assert events[-1]["event"] == "workflow_paused"
    run_id = events[0]["workflow_run_id"]

    # Re-attach and follow through the pause: the run waits on a person, so the stream idles and
    # keeps the connection with `event: ping` (every 10 s).
    headers = {"Authorization": f"Bearer {app_keys['review']}"}
    seen: list[str] = []
    with httpx.stream(
        "GET",
        f"{local_cloud.base_url}/v1/workflow/{run_id}/events",
        params={"user": "sdk-user", "continue_on_pause": "true"},
        headers=headers,
        timeout=30,
    ) as answer:
        assert answer.status_code == 200
        for line in answer.iter_lines():
            if line:
                seen.append(line)
            if line == "event: ping":
                break
    replayed = [json.loads(line[len("data: ") :]) for line in seen if line.startswith("data: ")]
    for event in replayed:
        check_event(event)
    assert [event["event"] for event in replayed] == [event["event"] for event in events]
    assert seen[-1] == "event: ping"

    resumed = httpx.get(
        f"{local_cloud.base_url}/v1/workflow/{run_id}/events",
        headers={**headers, "Last-Event-ID": "1"},
        timeout=30,
    )
    assert resumed.status_code == 200
    assert "workflow_started" not in resumed.text
    assert '"event":"workflow_paused"' in resumed.text
    other = httpx.get(
        f"{local_cloud.base_url}/v1/workflow/{run_id}/events",
        headers={"Authorization": f"Bearer {app_keys['hello']}"},
        timeout=30,
    )
    assert other.status_code == 404
    assert other.json() == {
        "status": 404,
        "code": "not_found",
        "message": f"run {run_id} not found",
        "error_code": 3000,
    }


def test_given_a_human_input_form_then_the_form_routes_and_412_after(local_cloud, app_keys):
    client = sdk(local_cloud, app_keys["human_input"])
    events, _ = streamed(client, {"question": "refunds"})
    names = [event["event"] for event in events]
    assert names[-2:] == ["human_input_required", "workflow_paused"], names
    required = events[-2]["data"]
    run_id = events[0]["workflow_run_id"]
    token = required["form_token"]

    form = client._send_request("GET", f"/form/human_input/{token}")
    elsewhere = sdk(local_cloud, app_keys["hello"])._send_request(
        "GET", f"/form/human_input/{token}"
    )
    submitted = client._send_request(
        "POST",
        f"/form/human_input/{token}",
        {"inputs": {"reply": "We refund.", "tone": "formal"}, "action": "publish", "user": "u"},
    )
    again = client._send_request(
        "POST",
        f"/form/human_input/{token}",
        {"inputs": {"reply": "Twice", "tone": "formal"}, "action": "publish", "user": "u"},
    )
    read_again = client._send_request("GET", f"/form/human_input/{token}")

    assert form.status_code == 200, form.text
    assert form.json()["form_token"] == token
    assert form.json()["node_id"] == required["node_id"] == "approval"
    assert [action["id"] for action in form.json()["actions"]] == ["publish", "reject"]
    assert "refunds" in form.json()["form_content"]
    assert elsewhere.status_code == 404
    assert submitted.status_code == 200, submitted.text
    assert submitted.json() == {}
    assert again.status_code == 412
    assert again.json()["code"] == "human_input_form_submitted"
    assert set(again.json()) == {"status", "code", "message", "error_code"}
    assert read_again.status_code == 412
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        detail = client._send_request("GET", f"/workflows/run/{run_id}").json()
        if detail["status"] not in ("running", "paused"):
            break
        time.sleep(0.5)
    assert detail["status"] == "succeeded"
    assert detail["outputs"]["published"] == "[formal] We refund."


def test_given_a_human_input_node_then_human_input_required_carries_the_form(local_cloud, app_keys):
    events, _ = streamed(sdk(local_cloud, app_keys["human_input"]), {"question": "tokens"})

    required = next(event for event in events if event["event"] == "human_input_required")
    assert required["data"]["form_token"]
    assert [field["output_variable_name"] for field in required["data"]["inputs"]] == [
        "reply",
        "tone",
    ]
    assert [action["id"] for action in required["data"]["actions"]] == ["publish", "reject"]


# ---------------------------------------------------------------- pinned versions


def test_given_two_versions_when_the_sdk_runs_one_by_its_workflow_id_then_that_version_runs(
    local_cloud,
):
    """Dify names each published version with a workflow id of its own: here a version's
    version_id. POST /v1/workflows/{workflow_id}/run runs it (blocking and streaming), and every
    /v1 answer naming the run's workflow (the blocking answer's data, the run detail, the
    streamed and re-attached workflow_started and workflow_finished) names that id."""
    workflow_id = f"pinned-{secrets.token_hex(3)}"
    headers = {"Authorization": f"Bearer {local_cloud.admin_key}"}
    with httpx.Client(base_url=local_cloud.base_url, headers=headers, timeout=60) as admin:
        assert admin.post("/workflows", json=greeter(id=workflow_id)).status_code == 201
        newer = greeter(name="greeter v2")
        newer.pop("id")
        newer["nodes"][1]["template"] = "Howdy, {{ name }}!"
        assert admin.put(f"/workflows/{workflow_id}", json=newer).status_code == 200
        versions = admin.get(f"/workflows/{workflow_id}/versions").json()["data"]
        other_app_version = admin.get("/workflows/hello").json()["version_id"]
        key = admin.post(
            "/keys", json={"name": workflow_id, "role": "app", "workflow_id": workflow_id}
        ).json()["key"]
    first, second = (version["version_id"] for version in versions)
    client = sdk(local_cloud, key)

    def pinned(version_id: str, *, streaming: bool = False) -> Any:
        body = {
            "inputs": {"name": "Pin"},
            "response_mode": "streaming" if streaming else "blocking",
            "user": "sdk-user",
        }
        return client._send_request("POST", f"/workflows/{version_id}/run", body, stream=streaming)

    old = pinned(first)
    new = pinned(second)
    stream = pinned(first, streaming=True)
    events, _ = read_stream(stream.iter_lines(decode_unicode=True))
    newest_stream = client._send_request(
        "POST",
        "/workflows/run",
        {"inputs": {"name": "New"}, "response_mode": "streaming", "user": "sdk-user"},
        stream=True,
    )
    newest_events, _ = read_stream(newest_stream.iter_lines(decode_unicode=True))
    reattached = httpx.get(
        f"{local_cloud.base_url}/v1/workflow/{events[0]['workflow_run_id']}/events",
        params={"user": "sdk-user"},
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )
    replayed, _ = read_stream(iter(reattached.text.splitlines()))
    unknown = pinned("6f1c1c4e-0000-4000-8000-000000000000")
    elsewhere = pinned(other_app_version)
    info = client._send_request("GET", "/info", params={"user": "sdk-user"})

    assert old.status_code == 200, old.text
    assert old.json()["data"]["outputs"] == {"greeting": "Hello, Pin!"}
    assert new.json()["data"]["outputs"] == {"greeting": "Howdy, Pin!"}
    assert (old.json()["data"]["workflow_id"], new.json()["data"]["workflow_id"]) == (
        first,
        second,
    )
    detail = client._send_request("GET", f"/workflows/run/{old.json()['workflow_run_id']}")
    assert detail.status_code == 200
    assert detail.json()["workflow_id"] == first
    for event in events:
        check_event(event)
    assert events[-1]["event"] == "workflow_finished"
    assert events[-1]["data"]["outputs"] == {"greeting": "Hello, Pin!"}
    assert reattached.status_code == 200, reattached.text
    assert [event["event"] for event in replayed] == [event["event"] for event in events]
    for streamed_events, version_id in (
        (events, first),
        (replayed, first),
        (newest_events, second),
    ):
        naming = {
            event["event"]: event["data"]["workflow_id"]
            for event in streamed_events
            if "workflow_id" in event.get("data", {})
        }
        # Of the wire notes' events, the workflow's start and end name it; node events do not.
        assert naming == {"workflow_started": version_id, "workflow_finished": version_id}
    for refused, named in ((unknown, "6f1c1c4e-0000-4000-8000-000000000000"), (elsewhere, None)):
        assert refused.status_code == 404
        body = refused.json()
        assert (body["status"], body["code"]) == (404, "not_found")
        assert named is None or named in body["message"]
    # The app's other routes answer for the newest version.
    assert info.json()["name"] == "greeter v2"
