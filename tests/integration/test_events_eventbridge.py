"""EventBridge subscribers: the README's rule pattern, on the project's bus, selects exactly one
workflow's run.failed events (moto's EventBridge delivering to an SQS target)."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from signoff.local.provision import StackPlan
from tests.support.stack_api import StackApi
from tests.support.workflows import greeter, raising

pytestmark = pytest.mark.integration

REGION = "us-east-1"

# The README's pattern ("Events": subscribing with EventBridge), for the workflow "invoices".
PATTERN = {
    "source": ["signoff"],
    "detail-type": ["run.failed"],
    "detail": {"workflow_id": ["invoices"]},
}


@pytest.fixture
def api(stack: StackPlan) -> StackApi:
    api = StackApi(stack)
    for workflow in (
        raising(id="invoices", name="invoices"),
        raising(id="payroll", name="payroll"),
        greeter(id="invoices-ok", name="invoices-ok"),
    ):
        status, body = api.call("POST", "/workflows", workflow)
        assert status == 201, body
    return api


@pytest.fixture
def subscriber_queue(stack: StackPlan) -> str:
    """A rule with the README's pattern on the project's bus, its target an SQS queue."""
    (bus,) = stack.event_buses.values()
    sqs = boto3.client("sqs", region_name=REGION)
    events = boto3.client("events", region_name=REGION)
    queue_url = sqs.create_queue(QueueName="invoice-failures")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    events.put_rule(
        Name="invoice-failures",
        EventBusName=bus.bus_name,
        EventPattern=json.dumps(PATTERN),
        State="ENABLED",
    )
    events.put_targets(
        Rule="invoice-failures",
        EventBusName=bus.bus_name,
        Targets=[{"Id": "queue", "Arn": queue_arn}],
    )
    return queue_url


def drain(queue_url: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs", region_name=REGION)
    received: list[dict[str, Any]] = []
    while True:
        batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not batch:
            return received
        received.extend(json.loads(message["Body"]) for message in batch)


def test_given_the_readme_pattern_then_only_that_workflows_run_failed_reaches_the_queue(
    api, subscriber_queue
):
    # Given runs of the selected workflow (failing and succeeding) and of another failing one
    _, failed = api.call("POST", "/workflows/invoices/runs", {"inputs": {"n": 1}})
    _, other = api.call("POST", "/workflows/payroll/runs", {"inputs": {"n": 2}})
    _, succeeded = api.call("POST", "/workflows/invoices-ok/runs", {"inputs": {"name": "Ada"}})
    assert (failed["status"], other["status"], succeeded["status"]) == (
        "failed",
        "failed",
        "succeeded",
    )

    # Then the queue holds exactly the selected run's run.failed, envelope and all
    received = drain(subscriber_queue)

    assert len(received) == 1, received
    (message,) = received
    assert message["source"] == "signoff"
    assert message["detail-type"] == "run.failed"
    detail = message["detail"]
    assert (detail["type"], detail["workflow_id"], detail["run_id"]) == (
        "run.failed",
        "invoices",
        failed["run_id"],
    )
    assert detail["tenant"] == "tenant-a"
    assert detail["data"]["error"]["node_id"] == "explode"
    assert detail["version"] == "1"
