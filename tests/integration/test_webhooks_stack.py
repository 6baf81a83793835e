"""Webhooks through the whole template in moto: the api function's /webhooks routes, a run's
events published to the bus, the rule -> queue -> fan-out -> queue -> delivery chain, and a
receiver on localhost verifying each delivery with the standardwebhooks package.

The stack is provisioned with the local cloud's choices (private networks allowed, so the
receiver may be on loopback) and a test retry schedule (0 s delays, 3 attempts).
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from signoff.local.provision import StackPlan
from signoff.store.run_events import DynamoRunEventLog
from tests.support.stack_api import StackApi
from tests.support.webhook_receiver import WebhookReceiver, always, failing_first
from tests.support.workflows import greeter

pytestmark = pytest.mark.integration

REGION = "us-east-1"
TENANT = "tenant-a"
MAX_ATTEMPTS = 3


@pytest.fixture
def stack_parameters() -> dict[str, str]:
    return {
        "AllowPrivateNetwork": "true",
        "WebhookRetryDelays": "[0]",
        "WebhookMaxAttempts": str(MAX_ATTEMPTS),
    }


@pytest.fixture
def api(stack: StackPlan) -> StackApi:
    api = StackApi(stack)
    status, body, _ = api.request("POST", "/workflows", greeter())
    assert status == 201, body
    return api


def subscribe(api: StackApi, receiver: WebhookReceiver, events: list[str]) -> dict[str, Any]:
    status, created, _ = api.request("POST", "/webhooks", {"url": receiver.url, "events": events})
    assert status == 201, created
    receiver.secret = created["secret"]
    return created


def run_events(plan: StackPlan, run_id: str) -> list[Any]:
    log = DynamoRunEventLog(
        plan.tables["RunEventsTable"].table_name, boto3.client("dynamodb", region_name=REGION)
    )
    return log.read(tenant_id=TENANT, run_id=run_id)


def test_given_a_subscription_when_a_run_finishes_then_every_event_arrives_once_verified(
    api, event_sources, stack
):
    with WebhookReceiver() as receiver:
        webhook = subscribe(api, receiver, ["*"])
        status, run, _ = api.request("POST", "/workflows/greeter/runs", {"inputs": {"name": "Ada"}})
        assert status == 200, run

        event_sources.drain(fast_forward=True)

        logged = run_events(stack, run["run_id"])
        assert {event.type for event in logged} >= {"run.started", "run.succeeded"}
        assert set(receiver.dedup_log) == {event.id for event in logged}
        assert not receiver.duplicates
        assert all(seen.verified for seen in receiver.received)
        assert receiver.dedup_log[logged[-1].id]["data"]["outputs"] == {"greeting": "Hello, Ada!"}
        status, deliveries, _ = api.request("GET", f"/webhooks/{webhook['id']}/deliveries")
        assert status == 200
        assert {d["event_id"] for d in deliveries["data"]} == {event.id for event in logged}
        assert {d["status"] for d in deliveries["data"]} == {"succeeded"}


def test_given_a_receiver_failing_twice_then_the_same_webhook_id_is_retried_and_accepted(
    api, event_sources
):
    with WebhookReceiver(script=failing_first(2)) as receiver:
        webhook = subscribe(api, receiver, ["run.succeeded"])
        api.request("POST", "/workflows/greeter/runs", {"inputs": {"name": "Ada"}})

        event_sources.drain(fast_forward=True)

        (webhook_id,) = receiver.dedup_log
        assert [seen.answered for seen in receiver.attempts_of(webhook_id)] == [500, 500, 200]
        _, deliveries, _ = api.request("GET", f"/webhooks/{webhook['id']}/deliveries")
        (delivery,) = deliveries["data"]
        assert delivery["status"] == "succeeded"
        assert [a["status_code"] for a in delivery["attempts"]] == [500, 500, 200]
        assert all(a["latency_ms"] >= 0 and a["at"] for a in delivery["attempts"])


def test_given_a_receiver_always_failing_then_dead_lettered_and_every_attempt_is_listed(
    api, event_sources, stack
):
    with WebhookReceiver(script=always(500)) as receiver:
        webhook = subscribe(api, receiver, ["run.started"])
        api.request("POST", "/workflows/greeter/runs", {"inputs": {"name": "Ada"}})

        event_sources.drain(fast_forward=True)

        _, deliveries, _ = api.request("GET", f"/webhooks/{webhook['id']}/deliveries")
        (delivery,) = deliveries["data"]
        assert delivery["status"] == "failed"
        assert [a["attempt"] for a in delivery["attempts"]] == [1, 2, 3]
        assert len(receiver.received) == MAX_ATTEMPTS
        sqs = boto3.client("sqs", region_name=REGION)
        dead_letters = stack.queues["WebhookDeliveriesDeadLetterQueue"].url
        (dead,) = sqs.receive_message(QueueUrl=dead_letters).get("Messages", [])
        assert json.loads(dead["Body"])["event"]["id"] == delivery["event_id"]


def test_given_410_then_the_subscription_is_disabled(api, event_sources):
    with WebhookReceiver(script=always(410)) as receiver:
        webhook = subscribe(api, receiver, ["run.*"])
        api.request("POST", "/workflows/greeter/runs", {"inputs": {"name": "Ada"}})

        event_sources.drain(fast_forward=True)

        assert len(receiver.received) == 1
        _, read, _ = api.request("GET", f"/webhooks/{webhook['id']}")
        assert read["status"] == "disabled"


# ------------------------------------------------------------------------------ the API


def test_given_post_webhooks_then_201_with_a_secret_shown_once(api):
    with WebhookReceiver() as receiver:
        status, created, _ = api.request(
            "POST",
            "/webhooks",
            {"url": receiver.url, "events": ["run.*", "review.requested"], "description": "ops"},
        )

        assert status == 201, created
        assert created["secret"].startswith("whsec_")
        assert created["id"].startswith("wh_")
        assert created["status"] == "active"
        _, listed, _ = api.request("GET", "/webhooks")
        _, read, _ = api.request("GET", f"/webhooks/{created['id']}")
        assert [hook["id"] for hook in listed["data"]] == [created["id"]]
        assert "secret" not in read and "secret" not in listed["data"][0]
        assert read["events"] == ["run.*", "review.requested"]


def test_given_bad_input_then_400_naming_the_field(api):
    cases = [
        ({"url": "ftp://example.com/x", "events": ["*"]}, "url"),
        ({"url": "https://user:pw@93.184.216.34/hook", "events": ["*"]}, "url"),
        ({"url": "https://93.184.216.34/hook", "events": ["run.finished"]}, "events.0"),
        ({"url": "https://93.184.216.34/hook", "events": []}, "events"),
        ({"events": ["*"]}, "url"),
    ]
    for body, field in cases:
        status, error, _ = api.request("POST", "/webhooks", body)

        assert status == 400, (body, error)
        assert error["field"] == field, (body, error)
        assert error["error_code"] == 1000


def test_given_another_tenant_then_every_webhook_route_is_404(api):
    _, created, _ = api.request(
        "POST", "/webhooks", {"url": "https://93.184.216.34/hook", "events": ["*"]}
    )
    webhook_id = created["id"]

    for method, path in [
        ("GET", f"/webhooks/{webhook_id}"),
        ("DELETE", f"/webhooks/{webhook_id}"),
        ("POST", f"/webhooks/{webhook_id}/rotate-secret"),
        ("GET", f"/webhooks/{webhook_id}/deliveries"),
    ]:
        status, error, _ = api.request(method, path, tenant_id="tenant-b")
        assert status == 404, (method, path, error)
        assert error["error_code"] == 3000
    _, theirs, _ = api.request("GET", "/webhooks", tenant_id="tenant-b")
    assert theirs["data"] == []


def test_given_rotate_and_delete_then_the_new_secret_is_shown_once_and_the_hook_is_gone(api):
    _, created, _ = api.request(
        "POST", "/webhooks", {"url": "https://93.184.216.34/hook", "events": ["*"]}
    )

    status, rotated, _ = api.request(
        "POST", f"/webhooks/{created['id']}/rotate-secret", {"grace_seconds": 600}
    )
    deleted, _, _ = api.request("DELETE", f"/webhooks/{created['id']}")
    gone, _, _ = api.request("GET", f"/webhooks/{created['id']}")

    assert status == 201, rotated
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != created["secret"]
    assert rotated["webhook"]["previous_secret_expires_at"] == rotated["previous_secret_expires_at"]
    assert (deleted, gone) == (204, 404)


def test_given_the_same_idempotency_key_then_the_first_subscription_and_another_body_422(api):
    body = {"url": "https://93.184.216.34/hook", "events": ["run.failed"]}
    key = {"Idempotency-Key": "create-hook-1"}

    first = api.request("POST", "/webhooks", body, headers=key)
    again = api.request("POST", "/webhooks", body, headers=key)
    other = api.request("POST", "/webhooks", {**body, "events": ["*"]}, headers=key)

    assert first[0] == again[0] == 201
    assert again[1] == first[1]
    assert again[2].get("Idempotent-Replayed") == "true"
    assert other[0] == 422
    assert other[1]["code"] == "idempotency_key_reused"
    _, listed, _ = api.request("GET", "/webhooks")
    assert len(listed["data"]) == 1
