"""Lifecycle events through the whole template stack on moto: each run's event log holds its
run, node and review events in order, numbered 1, 2, 3 ... without gaps."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from signoff.events.envelope import Event
from signoff.local.provision import StackPlan
from signoff.store.run_events import DynamoRunEventLog
from tests.support.review_machines import wait_for
from tests.support.stack_api import StackApi
from tests.support.workflows import greeter, raising

pytestmark = pytest.mark.integration

TENANT = "tenant-a"
REGION = "us-east-1"

RETRIED = raising(id="retried", name="retried")
RETRIED["nodes"][1]["retry_config"] = {
    "retry_enabled": True,
    "max_retries": 1,
    "retry_interval": 100,
}
REVIEWED = greeter(id="reviewed", name="reviewed")
REVIEWED["nodes"][1]["review"] = {"max_rounds": 2}


@pytest.fixture
def api(stack: StackPlan) -> StackApi:
    api = StackApi(stack)
    for workflow in (greeter(), raising(), RETRIED, REVIEWED):
        status, body = api.call("POST", "/workflows", workflow)
        assert status == 201, body
    return api


@pytest.fixture
def log(stack: StackPlan) -> DynamoRunEventLog:
    return DynamoRunEventLog(
        stack.tables["RunEventsTable"].table_name, boto3.client("dynamodb", region_name=REGION)
    )


def events_of(log: DynamoRunEventLog, run_id: str) -> list[Event]:
    events = log.read(tenant_id=TENANT, run_id=run_id)
    assert [event.sequence for event in events] == list(range(1, len(events) + 1))
    return events


def kinds(events: list[Event]) -> list[tuple[str, str | None]]:
    return [(event.type, event.node_id) for event in events]


def test_given_a_workflow_when_it_runs_then_its_log_holds_every_lifecycle_event_in_order(api, log):
    status, run = api.call("POST", "/workflows/greeter/runs", {"inputs": {"name": "Ada"}})
    assert (status, run["status"]) == (200, "succeeded"), run

    events = events_of(log, run["run_id"])

    assert kinds(events) == [
        ("run.started", None),
        ("node.started", "greet"),
        ("node.succeeded", "greet"),
        ("run.succeeded", None),
    ]
    assert all(
        (event.tenant, event.workflow_id, event.run_id) == (TENANT, "greeter", run["run_id"])
        for event in events
    )
    started, node_started, node_succeeded, succeeded = events
    assert started.data["inputs"] == {"name": "Ada", "times": 1}
    assert started.data["mode"] == "normal"
    assert node_started.data["node_type"] == "template-transform"
    assert node_started.data["attempt"] == 1
    assert node_succeeded.data["outputs"] == {"output": "Hello, Ada!"}
    assert node_succeeded.data["status"] == "succeeded"
    assert node_succeeded.data["error"] is None
    assert succeeded.data["outputs"] == {"greeting": "Hello, Ada!"}
    assert succeeded.data["status"] == "succeeded"
    assert succeeded.data["total_steps"] == 1
    assert succeeded.data["finished_at"] == run["finished_at"]
    assert succeeded.is_terminal


def test_given_a_node_that_raises_when_run_then_node_failed_then_run_failed(api, log):
    _, run = api.call("POST", "/workflows/raising/runs", {"inputs": {"n": 7}})
    assert run["status"] == "failed", run

    events = events_of(log, run["run_id"])

    assert kinds(events) == [
        ("run.started", None),
        ("node.started", "explode"),
        ("node.failed", "explode"),
        ("run.failed", None),
    ]
    assert events[2].data["status"] == "failed"
    assert events[2].data["error_type"] == run["error"]["type"]
    assert "cannot handle 7" in events[2].data["error"]
    assert events[3].data["error"]["node_id"] == "explode"
    assert "cannot handle 7" in events[3].data["error"]["message"]


def test_given_a_retried_node_when_an_attempt_fails_then_node_retrying_before_the_next_attempt(
    api, log
):
    _, run = api.call("POST", "/workflows/retried/runs", {"inputs": {"n": 1}})
    assert run["status"] == "failed", run

    events = events_of(log, run["run_id"])

    assert kinds(events) == [
        ("run.started", None),
        ("node.started", "explode"),
        ("node.retrying", "explode"),
        ("node.started", "explode"),
        ("node.failed", "explode"),
        ("run.failed", None),
    ]
    assert [event.data["attempt"] for event in events[1:5]] == [1, 1, 2, 2]
    assert events[5].data["total_steps"] == 2


def test_given_a_reviewed_node_when_approved_then_requested_paused_approved_resumed(api, log):
    status, run = api.call("POST", "/workflows/reviewed/runs", {"inputs": {"name": "Ada"}})
    assert (status, run["status"]) == (202, "paused"), run
    run_id = run["run_id"]

    def pending_review() -> dict[str, Any] | None:
        _, body = api.call("GET", f"/runs/{run_id}/reviews")
        pending = [review for review in body["data"] if review["status"] == "pending"]
        return pending[0] if pending else None

    review = wait_for(pending_review)
    status, _ = api.call(
        "POST", f"/runs/{run_id}/reviews/{review['review_id']}", {"action": "approve"}
    )
    assert status == 200

    def finished() -> list[Event] | None:
        events = events_of(log, run_id)
        return events if events and events[-1].is_terminal else None

    events = wait_for(finished)

    assert kinds(events) == [
        ("run.started", None),
        ("node.started", "greet"),
        ("node.succeeded", "greet"),
        ("review.requested", "greet"),
        ("run.paused", "greet"),
        ("review.approved", "greet"),
        ("run.resumed", "greet"),
        ("run.succeeded", None),
    ]
    requested, paused, approved, resumed = events[3:7]
    assert requested.data["review_id"] == review["review_id"]
    assert requested.data["kind"] == "review"
    assert requested.data["outputs"] == {"output": "Hello, Ada!"}
    assert paused.data == {"review_id": review["review_id"], "node_id": "greet", "kind": "review"}
    assert approved.data["decided_by"] == "key_1"
    assert resumed.data == {"review_id": review["review_id"], "node_id": "greet"}


def test_given_a_paused_run_when_cancelled_then_run_stopped_ends_the_log(api, log):
    _, run = api.call("POST", "/workflows/reviewed/runs", {"inputs": {"name": "Ada"}})
    run_id = run["run_id"]
    wait_for(lambda: any(e.type == "run.paused" for e in log.read(tenant_id=TENANT, run_id=run_id)))

    status, body = api.call("POST", f"/runs/{run_id}/cancel")
    assert status == 200, body

    events = events_of(log, run_id)
    assert events[-1].type == "run.stopped"
    assert events[-1].data["error"]["type"] == "Cancelled"
    # Reading the run again (which reconciles it) adds no second ending.
    api.call("GET", f"/runs/{run_id}")
    assert events_of(log, run_id)[-1].sequence == events[-1].sequence
