"""Webhooks over the local cloud: `signoff dev` delivers a run's events to a receiver on
localhost (this test's process), which verifies every delivery with the standardwebhooks package
and keeps a dedup log by webhook-id.

The e2e cloud retries 1 s apart, 3 attempts in all (tests/e2e/conftest.py). Each test works in a
tenant of its own, so the other tests' runs never reach its receiver.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import httpx
import pytest

from tests.e2e.conftest import E2E_STACK_PARAMETERS
from tests.support.webhook_receiver import WebhookReceiver, always, failing_first
from tests.support.workflows import greeter

pytestmark = pytest.mark.e2e

MAX_ATTEMPTS = int(E2E_STACK_PARAMETERS["WebhookMaxAttempts"])
WAIT_SECONDS = 60


@pytest.fixture
def tenant(local_cloud) -> Iterator[httpx.Client]:
    """A tenant of its own with the greeter workflow; a client with its admin key."""
    tenant_id = f"hooks-{secrets.token_hex(3)}"
    created = httpx.post(
        f"{local_cloud.base_url}/tenants",
        json={"name": "webhooks", "tenant_id": tenant_id, "plan": "enterprise"},
        headers={"Authorization": f"Bearer {local_cloud.admin_key}"},
        timeout=60,
    )
    assert created.status_code == 201, created.text
    with httpx.Client(
        base_url=local_cloud.base_url,
        headers={"Authorization": f"Bearer {created.json()['key']['key']}"},
        timeout=60,
    ) as client:
        assert client.post("/workflows", json=greeter()).status_code == 201
        yield client


def subscribe(client: httpx.Client, receiver: WebhookReceiver, events: list[str]) -> str:
    response = client.post("/webhooks", json={"url": receiver.url, "events": events})
    assert response.status_code == 201, response.text
    receiver.secret = response.json()["secret"]
    return response.json()["id"]


def run_greeter(client: httpx.Client) -> str:
    response = client.post("/workflows/greeter/runs", json={"inputs": {"name": "Ada"}})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "succeeded"
    return response.json()["run_id"]


def deliveries(client: httpx.Client, webhook_id: str) -> list[dict[str, Any]]:
    response = client.get(f"/webhooks/{webhook_id}/deliveries")
    assert response.status_code == 200, response.text
    return response.json()["data"]


def eventually(check: Callable[[], Any], *, timeout: float = WAIT_SECONDS) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout} s")
        time.sleep(0.2)


def test_given_a_subscription_then_every_event_of_a_run_arrives_exactly_once_per_webhook_id(
    tenant,
):
    with WebhookReceiver() as receiver:
        webhook_id = subscribe(tenant, receiver, ["*"])

        run_id = run_greeter(tenant)

        def terminal_received() -> bool:
            return any(
                payload["type"] == "run.succeeded" for payload in receiver.dedup_log.values()
            )

        receiver.wait_for(terminal_received, timeout=WAIT_SECONDS)
        payloads = list(receiver.dedup_log.values())
        assert {payload["run_id"] for payload in payloads} == {run_id}
        last = max(payload["sequence"] for payload in payloads)
        # The run's log has no gaps: sequences 1..last all arrived, each under its own id.
        assert sorted(payload["sequence"] for payload in payloads) == list(range(1, last + 1))
        assert {payload["id"] for payload in payloads} == set(receiver.dedup_log)
        assert all(seen.verified for seen in receiver.received)
        assert receiver.duplicates == []

        def all_succeeded() -> list[dict[str, Any]] | None:
            found = deliveries(tenant, webhook_id)
            done = len(found) == last and all(d["status"] == "succeeded" for d in found)
            return found if done else None

        logged = eventually(all_succeeded)
        assert {d["event_id"] for d in logged} == set(receiver.dedup_log)


def test_given_a_receiver_failing_twice_then_the_same_webhook_id_arrives_again_and_is_accepted(
    tenant,
):
    with WebhookReceiver(script=failing_first(2)) as receiver:
        webhook_id = subscribe(tenant, receiver, ["run.succeeded"])

        run_greeter(tenant)

        receiver.wait_for(lambda: len(receiver.dedup_log) == 1, timeout=WAIT_SECONDS)
        (event_id,) = receiver.dedup_log
        attempts = receiver.attempts_of(event_id)
        assert [seen.answered for seen in attempts] == [500, 500, 200]
        assert all(seen.verified for seen in attempts)
        (delivery,) = eventually(
            lambda: [d for d in deliveries(tenant, webhook_id) if d["status"] == "succeeded"]
        )
        assert [a["status_code"] for a in delivery["attempts"]] == [500, 500, 200]


def test_given_a_receiver_always_failing_then_the_delivery_is_failed_and_in_the_dead_letter_queue(
    tenant, local_cloud
):
    with WebhookReceiver(script=always(500)) as receiver:
        webhook_id = subscribe(tenant, receiver, ["run.started"])

        run_greeter(tenant)

        (delivery,) = eventually(
            lambda: [d for d in deliveries(tenant, webhook_id) if d["status"] == "failed"]
        )
        assert [a["attempt"] for a in delivery["attempts"]] == list(range(1, MAX_ATTEMPTS + 1))
        assert [a["status_code"] for a in delivery["attempts"]] == [500] * MAX_ATTEMPTS
        assert len(receiver.attempts_of(delivery["event_id"])) == MAX_ATTEMPTS
        dead = eventually(lambda: dead_lettered(local_cloud, delivery["event_id"]))
        assert dead["webhook_id"] == webhook_id


def dead_lettered(local_cloud, event_id: str) -> dict[str, Any] | None:
    sqs = boto3.client(
        "sqs",
        region_name="us-east-1",
        endpoint_url=local_cloud.aws_endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    (queue_url,) = [
        url
        for url in sqs.list_queues().get("QueueUrls", [])
        if url.endswith("WebhookDeliveriesDeadLetterQueue")
    ]
    # Visibility 0: looking does not hide the message from the next look.
    messages = sqs.receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0
    ).get("Messages", [])
    for message in messages:
        body = json.loads(message["Body"])
        if body["event"]["id"] == event_id:
            return body
    return None


def test_given_410_gone_then_the_subscription_is_disabled(tenant):
    with WebhookReceiver(script=always(410)) as receiver:
        webhook_id = subscribe(tenant, receiver, ["run.started"])

        run_greeter(tenant)

        eventually(lambda: tenant.get(f"/webhooks/{webhook_id}").json()["status"] == "disabled")
        run_greeter(tenant)
        time.sleep(2)  # what a second run would have sent has had time to arrive
        assert len(receiver.received) == 1
        (delivery,) = deliveries(tenant, webhook_id)
        assert delivery["status"] == "disabled"


def test_given_the_same_idempotency_key_then_the_first_subscription_and_another_body_422(tenant):
    body = {"url": "https://93.184.216.34/hook", "events": ["run.failed"]}
    key = {"Idempotency-Key": f"hook-{secrets.token_hex(4)}"}

    first = tenant.post("/webhooks", json=body, headers=key)
    again = tenant.post("/webhooks", json=body, headers=key)
    other = tenant.post("/webhooks", json={**body, "events": ["*"]}, headers=key)

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    assert [hook["id"] for hook in tenant.get("/webhooks").json()["data"]] == [first.json()["id"]]
