"""Step Functions "Execution Status Change" events, which the local cloud sends when moto ends an
execution: one per ended execution, on the default bus, in AWS's shape, for every end status."""

from __future__ import annotations

import inspect
import json
import time
from collections.abc import Collection
from typing import Any

import boto3
import moto
import pytest
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

from signoff.local import moto_patches
from signoff.local.status_events import STATUS_CHANGE_DETAIL_TYPE, STATUS_CHANGE_SOURCE

pytestmark = pytest.mark.integration

REGION = "us-east-1"
ROLE_ARN = "arn:aws:iam::123456789012:role/signoff-ExecutionRole"


@pytest.fixture
def status_queue(aws: None) -> str:
    """A queue receiving every aws.states status change on the default bus."""
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.create_queue(QueueName="status-changes")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events = boto3.client("events", region_name=REGION)
    events.put_rule(
        Name="status-changes",
        EventPattern=json.dumps(
            {"source": [STATUS_CHANGE_SOURCE], "detail-type": [STATUS_CHANGE_DETAIL_TYPE]}
        ),
    )
    events.put_targets(Rule="status-changes", Targets=[{"Id": "queue", "Arn": arn}])
    return url


def start(definition: dict[str, Any], execution_input: Any = None) -> str:
    sfn = boto3.client("stepfunctions", region_name=REGION)
    machine = sfn.create_state_machine(
        name=f"signoff-test-m{time.monotonic_ns()}",
        definition=json.dumps(definition),
        roleArn=ROLE_ARN,
    )
    return sfn.start_execution(
        stateMachineArn=machine["stateMachineArn"],
        name=f"run-{time.monotonic_ns()}",
        input=json.dumps(execution_input if execution_input is not None else {"x": 1}),
    )["executionArn"]


def status_events(
    queue_url: str, expected: int, executions: Collection[str], timeout: float = 15
) -> list[dict[str, Any]]:
    """The status changes of `executions` that arrive, until `expected` have. Others are left
    out: an execution an earlier test started in this process may end while this one runs."""
    sqs = boto3.client("sqs", region_name=REGION)
    received: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(received) < expected and time.monotonic() < deadline:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get(
            "Messages", []
        )
        bodies = (json.loads(message["Body"]) for message in messages)
        received.extend(body for body in bodies if body["detail"]["executionArn"] in executions)
        if not messages:
            time.sleep(0.05)
    return received


def wait_until_running(execution_arn: str) -> None:
    # The program is running once its first state has entered.
    sfn = boto3.client("stepfunctions", region_name=REGION)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        history = sfn.get_execution_history(executionArn=execution_arn)["events"]
        if any(event["type"].endswith("StateEntered") for event in history):
            return
        time.sleep(0.02)


def test_given_an_execution_that_succeeds_then_its_status_change_arrives_in_awss_shape(
    status_queue,
):
    execution_arn = start(
        {
            "QueryLanguage": "JSONata",
            "StartAt": "Done",
            "States": {"Done": {"Type": "Pass", "Output": {"ok": True}, "End": True}},
        },
        {"run": {"run_id": "r1"}},
    )

    [event] = status_events(status_queue, 1, {execution_arn})

    assert event["source"] == "aws.states"
    assert event["detail-type"] == "Step Functions Execution Status Change"
    assert event["resources"] == [execution_arn]
    detail = event["detail"]
    described = boto3.client("stepfunctions", region_name=REGION).describe_execution(
        executionArn=execution_arn
    )
    assert detail["executionArn"] == execution_arn
    assert detail["stateMachineArn"] == described["stateMachineArn"]
    assert detail["name"] == described["name"]
    assert detail["status"] == "SUCCEEDED"
    assert detail["startDate"] == int(described["startDate"].timestamp() * 1000)
    assert detail["stopDate"] == int(described["stopDate"].timestamp() * 1000)
    assert json.loads(detail["input"]) == {"run": {"run_id": "r1"}}
    assert json.loads(detail["output"]) == {"ok": True}
    assert detail["error"] is None and detail["cause"] is None


def test_given_an_execution_that_fails_then_its_status_change_carries_error_and_cause(
    status_queue,
):
    execution_arn = start(
        {
            "StartAt": "Boom",
            "States": {"Boom": {"Type": "Fail", "Error": "NodeCrashed", "Cause": "it broke"}},
        }
    )

    [event] = status_events(status_queue, 1, {execution_arn})

    detail = event["detail"]
    assert (detail["executionArn"], detail["status"]) == (execution_arn, "FAILED")
    assert (detail["error"], detail["cause"]) == ("NodeCrashed", "it broke")
    assert detail["output"] is None


def test_given_an_execution_that_times_out_then_its_status_change_says_timed_out(status_queue):
    execution_arn = start(
        {
            "TimeoutSeconds": 1,
            "StartAt": "Long",
            "States": {"Long": {"Type": "Wait", "Seconds": 30, "End": True}},
        }
    )

    [event] = status_events(status_queue, 1, {execution_arn})

    assert event["detail"]["executionArn"] == execution_arn
    assert event["detail"]["status"] == "TIMED_OUT"


def test_given_a_stopped_execution_then_its_status_change_says_aborted_with_the_stops_reason(
    status_queue,
):
    execution_arn = start(
        {"StartAt": "Long", "States": {"Long": {"Type": "Wait", "Seconds": 30, "End": True}}}
    )
    wait_until_running(execution_arn)

    boto3.client("stepfunctions", region_name=REGION).stop_execution(
        executionArn=execution_arn, error="Operator", cause="stopped by hand"
    )

    [event] = status_events(status_queue, 1, {execution_arn})
    detail = event["detail"]
    assert (detail["executionArn"], detail["status"]) == (execution_arn, "ABORTED")
    assert (detail["error"], detail["cause"]) == ("Operator", "stopped by hand")
    described = boto3.client("stepfunctions", region_name=REGION).describe_execution(
        executionArn=execution_arn
    )
    assert (described["error"], described["cause"]) == ("Operator", "stopped by hand")


def test_given_several_executions_then_each_end_sends_exactly_one_status_change(status_queue):
    arns = {
        start({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}})
        for _ in range(3)
    }

    events = status_events(status_queue, 3, arns)
    time.sleep(0.2)
    events += status_events(status_queue, 1, arns, timeout=0.3)

    assert sorted(event["detail"]["executionArn"] for event in events) == sorted(arns)


def test_given_moto_5_2_5_then_the_hooks_these_events_need_are_where_the_patches_expect():
    # Executions end through ExecutionWorkerCommunication.terminated (the hook of the status
    # change), and moto's own StopExecution still drops the error and cause it is given.
    assert moto.__version__ == moto_patches.MOTO_VERSION
    assert "self._execution_communication.terminated()" in inspect.getsource(
        ExecutionWorker._execution_logic
    )
    assert '"error"' not in inspect.getsource(moto_patches._stop_execution_response)
    assert "events_backends" not in inspect.getsource(ExecutionWorker)
