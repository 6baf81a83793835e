"""Queues, rules and SQS event sources from a template, in moto: what Lambda's poller does.

The toy template (tests/fixtures/local_bus) has a work queue with a dead-letter queue after two
receives, a consumer function polling it with ReportBatchItemFailures, a bus with a rule sending
`toy` events to the queue, and a function a rule targets directly.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from signoff.local import moto_patches
from signoff.local.event_sources import EventSources
from signoff.local.functions import FunctionRunner, activate
from signoff.local.provision import StackPlan, plan_stack, provision_stack

pytestmark = pytest.mark.integration

TEMPLATE = Path(__file__).parents[1] / "fixtures" / "local_bus" / "template.yaml"
REGION = "us-east-1"


@pytest.fixture
def bus(aws: None) -> Iterator[StackPlan]:
    plan = plan_stack(TEMPLATE)
    provision_stack(
        plan,
        {name: boto3.client(name, region_name=REGION) for name in ("dynamodb", "iam", "lambda")},
    )
    previous = activate(FunctionRunner(plan.functions))
    try:
        yield plan
    finally:
        activate(previous)


@pytest.fixture
def sources(bus: StackPlan) -> EventSources:
    return EventSources.for_plan(bus)


def send(plan: StackPlan, *bodies: dict[str, Any], **attributes: Any) -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    for body in bodies:
        sqs.send_message(
            QueueUrl=plan.queues["WorkQueue"].url, MessageBody=json.dumps(body), **attributes
        )


def notes(plan: StackPlan) -> dict[str, dict[str, Any]]:
    table = plan.tables["NotesTable"].table_name
    items = boto3.client("dynamodb", region_name=REGION).scan(TableName=table)["Items"]
    return {
        item["note_id"]["S"]: json.loads((item.get("record") or item["event"])["S"])
        for item in items
    }


def queue_depth(plan: StackPlan, logical_id: str) -> int:
    attributes = boto3.client("sqs", region_name=REGION).get_queue_attributes(
        QueueUrl=plan.queues[logical_id].url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def test_given_the_template_when_provisioned_then_queues_have_its_attributes_and_redrive(bus):
    sqs = boto3.client("sqs", region_name=REGION)
    attributes = sqs.get_queue_attributes(
        QueueUrl=bus.queues["WorkQueue"].url, AttributeNames=["All"]
    )["Attributes"]
    assert attributes["VisibilityTimeout"] == "30"
    assert attributes["MessageRetentionPeriod"] == "3600"
    assert json.loads(attributes["RedrivePolicy"]) == {
        "deadLetterTargetArn": bus.queues["WorkDeadLetterQueue"].arn,
        "maxReceiveCount": 2,
    }
    events = boto3.client("events", region_name=REGION)
    rule = events.describe_rule(Name="signoff-ToWorkRule", EventBusName="toy-test")
    assert json.loads(rule["EventPattern"])["detail"] == {"kind": [{"prefix": "work"}]}
    targets = events.list_targets_by_rule(Rule="signoff-ToWorkRule", EventBusName="toy-test")
    assert [target["Arn"] for target in targets["Targets"]] == [bus.queues["WorkQueue"].arn]


def test_given_messages_when_drained_then_the_function_gets_lambdas_sqs_event_and_they_are_deleted(
    bus, sources
):
    # Given two messages, one with a message attribute
    send(bus, {"id": "a", "outcome": "ok"})
    send(
        bus,
        {"id": "b", "outcome": "ok"},
        MessageAttributes={"trace": {"DataType": "String", "StringValue": "t-1"}},
    )

    # When the queue is drained
    outcomes = sources.drain()

    # Then one batch held both, both were deleted, and each record has Lambda's SQS shape
    assert [(o.received, o.deleted, o.failed) for o in outcomes] == [(2, 2, [])]
    received = notes(bus)
    assert set(received) == {"a#1", "b#1"}
    record = received["b#1"]
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == bus.queues["WorkQueue"].arn
    assert record["awsRegion"] == REGION
    assert record["md5OfBody"] == hashlib.md5(record["body"].encode()).hexdigest()
    assert json.loads(record["body"]) == {"id": "b", "outcome": "ok"}
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert {"SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"} <= set(
        record["attributes"]
    )
    assert record["messageAttributes"]["trace"]["stringValue"] == "t-1"
    assert record["messageAttributes"]["trace"]["dataType"] == "String"
    assert record["messageId"] and record["receiptHandle"]
    assert queue_depth(bus, "WorkQueue") == 0


def test_given_a_reported_item_failure_then_only_it_stays_and_after_max_receives_is_dead_lettered(
    bus, sources
):
    # Given a batch where one message is reported failed
    send(bus, {"id": "ok", "outcome": "ok"}, {"id": "bad", "outcome": "fail"})

    # When drained without the clock moving: the failed message waits out its visibility timeout
    first = sources.drain()
    assert [(o.received, o.deleted, len(o.failed)) for o in first] == [(2, 1, 1)]
    assert queue_depth(bus, "WorkQueue") == 1
    assert queue_depth(bus, "WorkDeadLetterQueue") == 0

    # When time moves past the visibility timeout (fast-forward)
    sources.drain(fast_forward=True)

    # Then it was received a second time, and after maxReceiveCount (2) SQS moved it to the DLQ
    assert set(notes(bus)) == {"ok#1", "bad#1", "bad#2"}
    assert queue_depth(bus, "WorkQueue") == 0
    assert queue_depth(bus, "WorkDeadLetterQueue") == 1


def test_given_an_invocation_that_raises_then_the_whole_batch_is_retried_then_dead_lettered(
    bus, sources
):
    send(bus, {"id": "x", "outcome": "ok"}, {"id": "y", "outcome": "raise"})

    outcomes = sources.drain(fast_forward=True)

    assert [(o.received, o.deleted, len(o.failed)) for o in outcomes] == [(2, 0, 2), (2, 0, 2)]
    assert set(notes(bus)) == {"x#1", "y#1", "x#2", "y#2"}
    assert queue_depth(bus, "WorkQueue") == 0
    assert queue_depth(bus, "WorkDeadLetterQueue") == 2


def test_given_an_invalid_batch_item_failure_then_the_whole_batch_fails(bus, sources):
    send(bus, {"id": "fine", "outcome": "ok"}, {"id": "odd", "outcome": "invalid"})

    outcomes = sources.drain()

    assert [(o.received, o.deleted, len(o.failed)) for o in outcomes] == [(2, 0, 2)]
    assert queue_depth(bus, "WorkQueue") == 2


def test_given_a_handler_changing_the_visibility_then_the_message_comes_back_when_it_says(
    bus, sources
):
    # Given a message whose handler makes it visible again at once and reports it failed
    send(bus, {"id": "again", "outcome": "retry-now"})

    # When drained without fast-forwarding
    sources.drain()

    # Then the handler's ChangeMessageVisibility held: it came back and succeeded
    assert set(notes(bus)) == {"again#1", "again#2"}
    assert queue_depth(bus, "WorkQueue") == 0


def test_given_a_rule_with_an_sqs_target_when_an_event_matches_then_the_queue_consumer_gets_it(
    bus, sources
):
    events = boto3.client("events", region_name=REGION)
    entries = [
        {"Source": "toy", "DetailType": "t", "Detail": json.dumps({"id": "e1", "kind": "work-x"})},
        {"Source": "toy", "DetailType": "t", "Detail": json.dumps({"id": "e2", "kind": "play"})},
    ]
    assert (
        events.put_events(Entries=[{**e, "EventBusName": "toy-test"} for e in entries])[
            "FailedEntryCount"
        ]
        == 0
    )

    sources.drain()

    received = notes(bus)
    assert set(received) == {"e1#1"}
    body = json.loads(received["e1#1"]["body"])
    assert body["source"] == "toy" and body["detail-type"] == "t"


def test_given_a_rule_targeting_a_function_when_an_event_matches_then_it_is_invoked_in_process(
    bus,
):
    events = boto3.client("events", region_name=REGION)
    response = events.put_events(
        Entries=[
            {
                "Source": "toy.direct",
                "DetailType": "direct",
                "Detail": json.dumps({"id": "d1"}),
                "EventBusName": "toy-test",
            }
        ]
    )
    assert response["FailedEntryCount"] == 0

    # Lambda targets are invoked asynchronously, as on AWS.
    deadline = time.monotonic() + 10
    while "d1" not in notes(bus) and time.monotonic() < deadline:
        time.sleep(0.05)
    event = notes(bus)["d1"]
    assert event["source"] == "toy.direct"
    assert event["detail"] == {"id": "d1"}
    assert isinstance(event["time"], str) and event["time"].endswith("Z")


def test_given_started_event_sources_then_a_thread_polls_each_queue_until_stopped(bus, sources):
    sources.start()
    try:
        send(bus, {"id": "live", "outcome": "ok"})
        deadline = time.monotonic() + 10
        while "live#1" not in notes(bus) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        sources.stop()
    assert "live#1" in notes(bus)
    assert all(poller._thread is None for poller in sources.pollers)


def test_given_moto_5_2_5_then_its_rules_still_cannot_deliver_to_functions_themselves():
    # The patch routing Lambda targets in process is needed while moto raises for them.
    source = inspect.getsource(moto_patches._send_to_targets)
    assert "NotImplementedError" in source and '"lambda"' not in source
