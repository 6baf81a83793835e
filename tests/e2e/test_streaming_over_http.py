"""Streaming over real HTTP through the local cloud: a run's events as Dify's Server-Sent Events,
from its start (POST /workflows/{id}/runs, response_mode streaming) or re-attached later
(GET /runs/{id}/events with Last-Event-ID), with nothing lost or repeated across a reconnect."""

from __future__ import annotations

import json
import secrets
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.support.workflows import greeter

pytestmark = pytest.mark.e2e

REVIEW_EXAMPLE = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "examples" / "review.yaml").read_text(encoding="utf-8")
)


def slow_chain(workflow_id: str, seconds: float = 0.6, nodes: int = 4) -> dict[str, Any]:
    """start -> step1 -> ... -> stepN (code nodes sleeping `seconds` each) -> end."""
    steps = [f"step{index}" for index in range(1, nodes + 1)]
    document: dict[str, Any] = {
        "id": workflow_id,
        "name": workflow_id,
        "inputs": [{"variable": "n", "type": "number", "required": True}],
        "nodes": [{"id": "start", "type": "start"}],
        "edges": [],
    }
    previous = ["start", "n"]
    source = "start"
    for step in steps:
        document["nodes"].append(
            {
                "id": step,
                "type": "code",
                "code_language": "python3",
                "code": f"import time\n\ndef main(n):\n    time.sleep({seconds})\n"
                "    return {'n': n + 1}\n",
                "variables": [{"variable": "n", "value_selector": previous}],
                "outputs": {"n": {"type": "number"}},
            }
        )
        document["edges"].append({"source": source, "target": step})
        previous, source = [step, "n"], step
    document["nodes"].append(
        {"id": "end", "type": "end", "outputs": [{"variable": "n", "value_selector": previous}]}
    )
    document["edges"].append({"source": source, "target": "end"})
    return document


def create(api: httpx.Client, document: dict[str, Any]) -> str:
    created = api.post("/workflows", json=document)
    assert created.status_code == 201, created.text
    return created.json()["id"]


class Frame:
    def __init__(self, event_id: int | None, name: str | None, data: dict[str, Any] | None):
        self.id = event_id
        self.name = name
        self.data = data

    @property
    def event(self) -> str | None:
        return self.data["event"] if self.data is not None else self.name


def read_frames(response: httpx.Response, *, stop_after: int | None = None) -> list[Frame]:
    """The SSE frames of a streaming response, as they arrive (all of them, or `stop_after`)."""
    frames: list[Frame] = []
    fields: dict[str, str] = {}
    for line in response.iter_lines():
        if line:
            name, _, value = line.partition(":")
            fields[name] = value[1:] if value.startswith(" ") else value
            continue
        if fields:
            frames.append(
                Frame(
                    int(fields["id"]) if "id" in fields else None,
                    fields.get("event"),
                    json.loads(fields["data"]) if "data" in fields else None,
                )
            )
            fields = {}
            if stop_after is not None and len([f for f in frames if f.id]) >= stop_after:
                break
    return frames


def data_frames(frames: list[Frame]) -> list[Frame]:
    return [frame for frame in frames if frame.data is not None]


def stream_start(api: httpx.Client, workflow_id: str, inputs: dict[str, Any]) -> list[Frame]:
    with api.stream(
        "POST",
        f"/workflows/{workflow_id}/runs",
        json={"inputs": inputs, "response_mode": "streaming"},
    ) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        return read_frames(response)


def test_given_a_streaming_start_then_dify_events_arrive_in_order_and_the_stream_closes(api):
    workflow_id = create(api, greeter(id=f"stream-greeter-{uuid.uuid4().hex[:8]}"))

    frames = data_frames(stream_start(api, workflow_id, {"name": "Ada"}))

    events = [frame.event for frame in frames]
    assert events == [
        "workflow_started",
        "node_started",
        "node_finished",
        "workflow_finished",
    ]
    started, node_started, node_finished, finished = (frame.data for frame in frames)
    run_id = started["workflow_run_id"]
    assert all(frame.data["task_id"] == run_id for frame in frames)
    assert started["data"]["inputs"]["name"] == "Ada"
    assert isinstance(started["data"]["created_at"], int)
    assert node_started["data"]["node_id"] == "greet"
    assert node_finished["data"]["id"] == node_started["data"]["id"]
    assert node_finished["data"]["status"] == "succeeded"
    assert node_finished["data"]["outputs"] == {"output": "Hello, Ada!"}
    assert isinstance(node_finished["data"]["elapsed_time"], float)
    assert finished["data"]["status"] == "succeeded"
    assert finished["data"]["outputs"] == {"greeting": "Hello, Ada!"}
    # Every frame's id is its event's sequence in the run's log: increasing, from 1.
    ids = [frame.id for frame in frames]
    assert ids[0] == 1 and ids == sorted(ids) and len(set(ids)) == len(ids)
    assert api.get(f"/runs/{run_id}").json()["status"] == "succeeded"


def test_given_a_blocking_start_on_the_streaming_route_then_it_answers_as_before(api):
    workflow_id = create(api, greeter(id=f"stream-blocking-{uuid.uuid4().hex[:8]}"))

    answer = api.post(f"/workflows/{workflow_id}/runs", json={"inputs": {"name": "Bo"}})

    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.json()["outputs"] == {"greeting": "Hello, Bo!"}
    invalid = api.post(
        f"/workflows/{workflow_id}/runs", json={"inputs": {}, "response_mode": "streaming"}
    )
    assert invalid.status_code == 400
    assert invalid.json()["code"] == "invalid_input"


def test_given_a_reviewed_workflow_then_its_stream_ends_with_workflow_paused(api):
    workflow_id = create(api, {**REVIEW_EXAMPLE, "id": f"stream-review-{uuid.uuid4().hex[:8]}"})

    frames = data_frames(stream_start(api, workflow_id, {"topic": "owls"}))

    assert frames[0].event == "workflow_started"
    assert frames[-1].event == "workflow_paused"
    paused = frames[-1].data["data"]
    assert paused["status"] == "paused"
    assert paused["paused_nodes"] == ["draft"]
    run_id = frames[-1].data["workflow_run_id"]
    assert api.get(f"/runs/{run_id}").json()["status"] == "paused"
    api.post(f"/runs/{run_id}/cancel")


def full_log(api: httpx.Client, run_id: str) -> list[Frame]:
    with api.stream("GET", f"/runs/{run_id}/events") as response:
        assert response.status_code == 200, response.read()
        return data_frames(read_frames(response))


def test_given_a_dropped_connection_when_re_attaching_with_last_event_id_then_nothing_is_lost(
    api,
):
    workflow_id = create(api, slow_chain(f"stream-slow-{uuid.uuid4().hex[:8]}"))

    with api.stream(
        "POST",
        f"/workflows/{workflow_id}/runs",
        json={"inputs": {"n": 0}, "response_mode": "streaming"},
    ) as response:
        assert response.status_code == 200
        first = data_frames(read_frames(response, stop_after=3))
    # The connection is closed mid-run: the run goes on.
    run_id = first[0].data["workflow_run_id"]
    last_id = first[-1].id
    assert api.get(f"/runs/{run_id}").json()["status"] == "running"

    with api.stream(
        "GET", f"/runs/{run_id}/events", headers={"Last-Event-ID": str(last_id)}
    ) as response:
        assert response.status_code == 200
        rest = data_frames(read_frames(response))

    union = first + rest
    everything = full_log(api, run_id)
    assert [frame.id for frame in union] == [frame.id for frame in everything]
    assert [frame.data for frame in union] == [frame.data for frame in everything]
    assert rest[0].id == last_id + 1 or rest[0].id > last_id
    assert everything[-1].event == "workflow_finished"
    assert everything[-1].data["data"]["outputs"] == {"n": 4}


def test_given_a_finished_run_then_get_events_replays_everything_and_ends(api):
    workflow_id = create(api, greeter(id=f"stream-replay-{uuid.uuid4().hex[:8]}"))
    started = api.post(f"/workflows/{workflow_id}/runs", json={"inputs": {"name": "Cy"}})
    assert started.status_code == 200, started.text
    run_id = started.json()["run_id"]

    frames = full_log(api, run_id)

    assert [frame.event for frame in frames] == [
        "workflow_started",
        "node_started",
        "node_finished",
        "workflow_finished",
    ]
    # The query parameter works like the header (EventSource cannot set headers).
    with api.stream("GET", f"/runs/{run_id}/events", params={"last_event_id": frames[1].id}) as r:
        later = data_frames(read_frames(r))
    assert [frame.id for frame in later] == [frame.id for frame in frames[2:]]


def test_given_another_tenants_run_then_its_events_are_not_found(local_cloud, api):
    workflow_id = create(api, greeter(id=f"stream-tenant-{uuid.uuid4().hex[:8]}"))
    run_id = api.post(f"/workflows/{workflow_id}/runs", json={"inputs": {"name": "Di"}}).json()[
        "run_id"
    ]
    tenant_id = f"stream-{secrets.token_hex(4)}"
    created = api.post("/tenants", json={"name": tenant_id, "tenant_id": tenant_id})
    assert created.status_code == 201, created.text
    other = {"Authorization": f"Bearer {created.json()['key']['key']}"}

    answer = httpx.get(f"{local_cloud.base_url}/runs/{run_id}/events", headers=other, timeout=30)
    no_key = httpx.get(f"{local_cloud.base_url}/runs/{run_id}/events", timeout=30)
    bad_id = api.get(f"/runs/{run_id}/events", headers={"Last-Event-ID": "seven"})

    assert answer.status_code == 404
    assert answer.json() == {
        "status": 404,
        "code": "not_found",
        "message": answer.json()["message"],
        "error_code": 3000,
    }
    assert no_key.status_code == 401
    assert bad_id.status_code == 400
    assert bad_id.json()["code"] == "invalid_input"
