"""The streaming GETs as the api function answers them (API Gateway sends them to the streaming
function; the api's resolver serves them too, as /openapi.json documents): a finished run's
events replayed as one text/event-stream body."""

from __future__ import annotations

import json
from typing import Any

import pytest

from signoff.local.provision import StackPlan
from tests.support.stack_api import StackApi
from tests.support.workflows import greeter

pytestmark = pytest.mark.integration

EVENT_ROUTES = ["/runs/{run_id}/events", "/v1/workflow/{run_id}/events"]


def get(
    plan: StackPlan,
    path: str,
    *,
    tenant_id: str = "tenant-a",
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The api function's raw answer to a GET, as API Gateway forwards it."""
    return StackApi(plan).invoke("GET", path, tenant_id=tenant_id, headers=headers, query=query)


def content_type(answer: dict[str, Any]) -> str:
    headers = {name.lower(): value for name, value in (answer.get("headers") or {}).items()}
    multi = {name.lower(): value for name, value in (answer.get("multiValueHeaders") or {}).items()}
    return headers.get("content-type") or (multi.get("content-type") or [""])[0]


def frames(body: str) -> list[tuple[int | None, dict[str, Any]]]:
    """Each frame's id and data."""
    parsed = []
    for block in body.split("\n\n"):
        if not block.strip():
            continue
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        event_id = int(fields["id"]) if "id" in fields else None
        parsed.append((event_id, json.loads(fields["data"])))
    return parsed


@pytest.fixture
def finished_run(stack: StackPlan) -> str:
    api = StackApi(stack)
    status, body = api.call("POST", "/workflows", greeter())
    assert status == 201, body
    status, run = api.call("POST", "/workflows/greeter/runs", {"inputs": {"name": "Ada"}})
    assert status == 200 and run["status"] == "succeeded", run
    return run["run_id"]


@pytest.mark.parametrize("route", EVENT_ROUTES)
def test_given_a_finished_run_when_its_events_are_asked_of_the_api_then_sse_of_the_whole_run(
    stack, finished_run, route
):
    answer = get(stack, route.format(run_id=finished_run))

    assert answer["statusCode"] == 200, answer["body"]
    assert content_type(answer).startswith("text/event-stream")
    replayed = frames(answer["body"])
    names = [data["event"] for _, data in replayed]
    assert names[0] == "workflow_started"
    assert names[-1] == "workflow_finished"
    assert "node_finished" in names
    assert replayed[-1][1]["data"]["outputs"] == {"greeting": "Hello, Ada!"}
    assert all(data["workflow_run_id"] == finished_run for _, data in replayed)
    ids = [event_id for event_id, _ in replayed if event_id is not None]
    assert ids == sorted(ids) and ids[0] == 1


@pytest.mark.parametrize("route", EVENT_ROUTES)
def test_given_a_last_event_id_then_the_replay_resumes_after_it(stack, finished_run, route):
    path = route.format(run_id=finished_run)
    everything = frames(get(stack, path)["body"])
    first_id = everything[0][0]
    assert first_id is not None

    by_header = frames(get(stack, path, headers={"Last-Event-ID": str(first_id)})["body"])
    by_query = frames(get(stack, path, query={"last_event_id": str(first_id)})["body"])

    expected = [frame for frame in everything if frame[0] != first_id]
    assert by_header == expected
    assert by_query == expected


@pytest.mark.parametrize("route", EVENT_ROUTES)
def test_given_another_tenants_run_then_404_and_nothing_of_it(stack, finished_run, route):
    answer = get(stack, route.format(run_id=finished_run), tenant_id="tenant-b")

    assert answer["statusCode"] == 404
    assert json.loads(answer["body"])["code"] == "not_found"
    assert "workflow_started" not in answer["body"]


def test_given_a_last_event_id_that_is_no_sequence_then_400_naming_it(stack, finished_run):
    answer = get(stack, f"/runs/{finished_run}/events", headers={"Last-Event-ID": "seven"})

    assert answer["statusCode"] == 400
    assert json.loads(answer["body"])["error_code"] // 1000 == 1
