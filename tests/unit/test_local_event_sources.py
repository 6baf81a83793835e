"""SQS event sources planned from a template, and the event and batch rules of Lambda's poller
(no AWS calls)."""

from __future__ import annotations

from pathlib import Path

import pytest

from signoff.local.event_sources import (
    SqsEventSourceSpec,
    failed_message_ids,
    sqs_event,
)
from signoff.local.functions import InvocationResult
from signoff.local.provision import plan_stack
from signoff.local.template import TemplateError

TEMPLATE = Path(__file__).parents[1] / "fixtures" / "local_bus" / "template.yaml"
QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:work"
REPORTING = SqsEventSourceSpec("Fn", "Work", QUEUE_ARN, report_batch_item_failures=True)
PLAIN = SqsEventSourceSpec("Fn", "Work", QUEUE_ARN)


def test_given_the_toy_template_then_queues_rules_and_event_sources_are_planned_from_it():
    plan = plan_stack(TEMPLATE)

    work = plan.queues["WorkQueue"]
    assert work.queue_name == "signoff-WorkQueue"
    assert work.dead_letter_arn == plan.queues["WorkDeadLetterQueue"].arn
    assert plan.queues["WorkDeadLetterQueue"].queue_name == "toy-test-work-dlq"
    assert plan.queue_policies == ["WorkQueuePolicy"]
    assert plan.rules["ToWorkRule"].bus_name == "toy-test"
    assert plan.rules["ToWorkRule"].targets[0]["Arn"] == work.arn
    # A SAM EventBridgeRule event becomes a rule targeting its function.
    direct = plan.rules["RecordFunctionDirect"]
    assert direct.event_pattern == {"source": ["toy.direct"]}
    assert direct.targets[0]["Arn"] == plan.function("record").function_arn
    assert plan.event_sources == [
        SqsEventSourceSpec(
            function_logical_id="ConsumerFunction",
            event_name="Work",
            queue_arn=work.arn,
            batch_size=5,
            report_batch_item_failures=True,
        )
    ]


def test_given_refs_and_getatts_of_queues_and_rules_then_functions_get_what_cloudformation_gives():
    environment = plan_stack(TEMPLATE).function("consumer").environment

    assert environment["SIGNOFF_WORK_QUEUE_URL"] == (
        "https://sqs.us-east-1.amazonaws.com/123456789012/signoff-WorkQueue"
    )
    assert environment["SIGNOFF_WORK_QUEUE_ARN"] == (
        "arn:aws:sqs:us-east-1:123456789012:signoff-WorkQueue"
    )
    assert environment["SIGNOFF_TO_WORK_RULE"] == "toy-test|signoff-ToWorkRule"
    assert environment["SIGNOFF_TO_WORK_RULE_ARN"] == (
        "arn:aws:events:us-east-1:123456789012:rule/toy-test/signoff-ToWorkRule"
    )


def test_given_the_real_template_then_the_reconcile_function_polls_the_status_change_queue():
    plan = plan_stack()

    [source] = [s for s in plan.event_sources if s.function_logical_id == "ReconcileFunction"]
    assert source.queue_arn == plan.queues["ReconcileQueue"].arn
    assert source.report_batch_item_failures
    rule = plan.rules["ExecutionStatusRule"]
    assert rule.bus_name == "default"
    assert rule.event_pattern["detail"]["stateMachineArn"] == [
        {"prefix": "arn:aws:states:us-east-1:123456789012:stateMachine:signoff-dev-"}
    ]
    assert plan.queues["ReconcileQueue"].dead_letter_arn == (
        plan.queues["ReconcileDeadLetterQueue"].arn
    )


def test_given_an_sqs_event_with_an_unknown_property_then_planning_fails_loudly(tmp_path):
    text = TEMPLATE.read_text().replace("BatchSize: 5", "BatchSize: 5\n            Tumbling: 1")
    (tmp_path / "functions").symlink_to(TEMPLATE.parent / "functions")
    path = tmp_path / "template.yaml"
    path.write_text(text)

    with pytest.raises(TemplateError, match="Tumbling"):
        plan_stack(path)


def test_given_received_messages_then_the_event_is_lambdas_sqs_event():
    message = {
        "MessageId": "m-1",
        "ReceiptHandle": "rh-1",
        "MD5OfBody": "abc",
        "Body": "hello",
        "Attributes": {"ApproximateReceiveCount": "2", "SentTimestamp": "1", "Other": "x"},
        "MD5OfMessageAttributes": "def",
        "MessageAttributes": {
            "s": {"DataType": "String", "StringValue": "v"},
            "b": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
        },
    }

    [record] = sqs_event([message], QUEUE_ARN)["Records"]

    assert record == {
        "messageId": "m-1",
        "receiptHandle": "rh-1",
        "body": "hello",
        "attributes": {"ApproximateReceiveCount": "2", "SentTimestamp": "1"},
        "messageAttributes": {
            "s": {
                "stringValue": "v",
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": "String",
            },
            "b": {
                "binaryValue": "AAE=",
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": "Binary",
            },
        },
        "md5OfBody": "abc",
        "md5OfMessageAttributes": "def",
        "eventSource": "aws:sqs",
        "eventSourceARN": QUEUE_ARN,
        "awsRegion": "us-east-1",
    }


@pytest.mark.parametrize(
    ("source", "result", "failed"),
    [
        (REPORTING, InvocationResult(payload={"batchItemFailures": []}), []),
        (REPORTING, InvocationResult(payload=None), []),
        (
            REPORTING,
            InvocationResult(payload={"batchItemFailures": [{"itemIdentifier": "b"}]}),
            ["b"],
        ),
        (
            REPORTING,
            InvocationResult(payload={"batchItemFailures": [{"itemIdentifier": "zz"}]}),
            ["a", "b"],
        ),
        (
            REPORTING,
            InvocationResult(payload={"batchItemFailures": [{"itemIdentifier": ""}]}),
            ["a", "b"],
        ),
        (REPORTING, InvocationResult(payload={"batchItemFailures": "b"}), ["a", "b"]),
        (REPORTING, InvocationResult(error={"errorType": "ValueError"}), ["a", "b"]),
        (PLAIN, InvocationResult(payload={"batchItemFailures": [{"itemIdentifier": "b"}]}), []),
        (PLAIN, InvocationResult(error={"errorType": "ValueError"}), ["a", "b"]),
    ],
    ids=[
        "empty-list",
        "null",
        "one-reported",
        "unknown-id",
        "empty-id",
        "not-a-list",
        "raised",
        "not-reporting-ignores-the-answer",
        "not-reporting-raised",
    ],
)
def test_given_an_invocation_result_then_the_failed_messages_follow_lambdas_rules(
    source, result, failed
):
    assert failed_message_ids(source, result, ["a", "b"]) == failed
