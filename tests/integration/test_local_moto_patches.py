"""The moto patches, each against the moto it patches: these fail loudly when moto changes.

Pinned: moto==5.2.5. A failure here after a moto upgrade means a patch in
signoff/local/moto_patches.py no longer fits the code it replaces.
"""

from __future__ import annotations

import inspect
import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import moto
import pytest
from botocore.exceptions import ClientError
from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.stepfunctions.parser.asl.eval import states as moto_states
from moto.stepfunctions.parser.asl.eval import variable_store as moto_variable_store
from moto.stepfunctions.parser.asl.eval.callback.callback import CallbackPoolManager
from moto.stepfunctions.parser.asl.jsonata import jsonata as moto_jsonata
from moto.stepfunctions.parser.backend.execution import Execution

from signoff.local import moto_patches
from signoff.local.functions import FunctionRunner, activate
from signoff.local.provision import StackPlan, plan_stack, provision_stack

pytestmark = pytest.mark.integration

ROLE_ARN = "arn:aws:iam::123456789012:role/signoff-ExecutionRole"


@pytest.fixture
def toy(aws, toy_template) -> Iterator[StackPlan]:
    plan = plan_stack(toy_template)
    provision_stack(plan, {name: boto3.client(name) for name in ("dynamodb", "iam", "lambda")})
    previous = activate(FunctionRunner(plan.functions))
    try:
        yield plan
    finally:
        activate(previous)


def run_state_machine(definition: dict[str, Any], execution_input: Any) -> dict[str, Any]:
    sfn = boto3.client("stepfunctions")
    machine = sfn.create_state_machine(
        name=f"m{time.monotonic_ns()}", definition=json.dumps(definition), roleArn=ROLE_ARN
    )
    execution = sfn.start_execution(
        stateMachineArn=machine["stateMachineArn"],
        name=f"e{time.monotonic_ns()}",
        input=json.dumps(execution_input),
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        described = sfn.describe_execution(executionArn=execution["executionArn"])
        if described["status"] != "RUNNING":
            return described
        time.sleep(0.05)
    raise AssertionError("the execution did not finish")


# ------------------------------------------------------------------ what the patches rely on


def test_moto_is_the_pinned_version():
    assert moto.__version__ == moto_patches.MOTO_VERSION


def test_moto_still_has_the_jsonata_hook_the_evaluator_fills():
    assert hasattr(moto_jsonata, "_eval_jsonata")
    assert list(inspect.signature(moto_jsonata.eval_jsonata_expression).parameters) == [
        "jsonata_expression"
    ]
    assert issubclass(moto_jsonata.JSONataException, Exception)
    assert list(inspect.signature(moto_jsonata.JSONataException).parameters) == ["error", "details"]


def test_moto_still_imports_the_variable_encoder_by_name_where_the_patch_replaces_it():
    for module in (moto_jsonata, moto_states, moto_variable_store):
        assert hasattr(module, "encode_jsonata_variable_declarations"), module.__name__
    parameters = inspect.signature(moto_patches.encode_jsonata_variable_declarations).parameters
    original = inspect.signature(moto_jsonata.compose_jsonata_expression).parameters
    assert list(parameters) == ["bindings"]
    assert "variable_declarations_list" in original


def test_moto_still_calls_the_simple_lambda_backend_with_the_patched_signature():
    moto_patches.apply_patches()
    assert LambdaSimpleBackend.invoke is moto_patches.invoke_in_process
    expected = ["self", "function_name", "qualifier", "body", "headers", "response_headers"]
    assert list(inspect.signature(LambdaSimpleBackend.invoke).parameters) == expected
    # moto's Lambda responses call backend.invoke with exactly these, positionally.
    from moto.awslambda import responses

    source = " ".join(inspect.getsource(responses.LambdaResponse.invoke).split())
    call = (
        "self.backend.invoke( function_name, qualifier, self.body, self.headers, response_headers )"
    )
    assert call in source


def test_given_patches_applied_twice_then_nothing_changes():
    moto_patches.apply_patches()
    evaluator = moto_jsonata._eval_jsonata
    moto_patches.apply_patches()

    assert moto_jsonata._eval_jsonata is evaluator is moto_patches.evaluate_jsonata


# ------------------------------------------------------------------ a. JSONata


def test_given_jsonata_states_when_executed_then_expressions_and_variables_evaluate(aws):
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Double",
        "States": {
            "Double": {
                "Type": "Pass",
                "Assign": {"doubled": "{% $map($states.input.items, function($v) { $v * 2 }) %}"},
                "Next": "Sum",
            },
            "Sum": {
                "Type": "Pass",
                "Output": {"total": "{% $sum($doubled) %}", "ratio": "{% 3 / 2 %}"},
                "End": True,
            },
        },
    }

    execution = run_state_machine(definition, {"items": [1, 2, 3]})

    assert execution["status"] == "SUCCEEDED", execution
    assert json.loads(execution["output"]) == {"total": 12, "ratio": 1.5}


def test_given_a_bad_jsonata_expression_then_moto_sees_its_jsonata_exception():
    moto_patches.apply_patches()

    with pytest.raises(moto_jsonata.JSONataException) as raised:
        moto_jsonata.eval_jsonata_expression("$number(")
    assert raised.value.error == "UNKNOWN"


# ------------------------------------------------------------------ c. string variables


def test_given_a_variable_holding_quotes_backslashes_and_newlines_then_it_reads_back_intact(aws):
    # moto 5.2.5 writes string variables as "<value>" unescaped: this broke before the patch.
    tricky = 'she said "hi"\\ \n and left'
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Keep",
        "States": {
            "Keep": {
                "Type": "Pass",
                "Assign": {"text": "{% $states.input.text %}"},
                "Next": "Read",
            },
            "Read": {"Type": "Pass", "Output": {"echo": "{% $text %}"}, "End": True},
        },
    }

    execution = run_state_machine(definition, {"text": tricky})

    assert execution["status"] == "SUCCEEDED", execution
    assert json.loads(execution["output"]) == {"echo": tricky}


def test_the_unpatched_encoder_still_writes_strings_unescaped():
    # When moto fixes this, the patch can go: this test says so.
    from moto.stepfunctions.parser.asl.jsonata.jsonata import (
        _VARIABLE_REFERENCE_ASSIGNMENT_OPERATOR,
    )

    source = inspect.getsource(moto_jsonata)
    assert "value_str_lit = f'\"{value}\"'" in source
    assert _VARIABLE_REFERENCE_ASSIGNMENT_OPERATOR == ":="


# ------------------------------------------------------------------ b. Lambda invoke


def lambda_task(function_arn: str, **extra: Any) -> dict[str, Any]:
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Arguments": {"FunctionName": function_arn, "Payload": "{% $states.input %}"},
        "Output": "{% $states.result.Payload %}",
        **extra,
    }


def test_given_a_lambda_task_then_the_templates_handler_runs_in_process(toy):
    echo = toy.function("echo")
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Echo",
        "States": {"Echo": lambda_task(echo.function_arn, End=True)},
    }

    execution = run_state_machine(definition, {"name": "Ada"})

    assert execution["status"] == "SUCCEEDED", execution
    output = json.loads(execution["output"])
    assert output["event"] == {"name": "Ada"}
    assert output["imported_with"]["SIGNOFF_MARK"] == "echo-test"


def test_given_a_handler_that_raises_then_catch_matches_its_python_error_type(toy):
    boom = toy.function("boom")
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Boom",
        "States": {
            "Boom": lambda_task(
                boom.function_arn,
                Retry=[{"ErrorEquals": ["ValueError"], "MaxAttempts": 1, "IntervalSeconds": 1}],
                Catch=[
                    {
                        "ErrorEquals": ["ValueError"],
                        "Output": "{% $states.errorOutput %}",
                        "Next": "Caught",
                    }
                ],
                End=True,
            ),
            "Caught": {"Type": "Pass", "End": True},
        },
    }

    execution = run_state_machine(definition, {"n": 7})

    assert execution["status"] == "SUCCEEDED", execution
    error_output = json.loads(execution["output"])
    assert error_output["Error"] == "ValueError"
    assert json.loads(error_output["Cause"])["errorMessage"] == "cannot handle 7"
    history = boto3.client("stepfunctions").get_execution_history(
        executionArn=execution["executionArn"]
    )["events"]
    failures = [event for event in history if event["type"] == "TaskFailed"]
    assert len(failures) == 2  # the first attempt and its one retry


def test_given_an_uncaught_handler_error_then_the_execution_fails_with_that_type(toy):
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Boom",
        "States": {"Boom": lambda_task(toy.function("boom").function_arn, End=True)},
    }

    execution = run_state_machine(definition, {"kind": "timeout"})

    assert execution["status"] == "FAILED"
    assert execution["error"] == "NodeTimeout"


def test_given_a_direct_invoke_then_lambdas_error_contract_comes_back(toy):
    client = boto3.client("lambda")

    ok = client.invoke(FunctionName="signoff-EchoFunction", Payload=b'{"a": 1}')
    failed = client.invoke(FunctionName="signoff-BoomFunction", Payload=b'{"n": 3}')

    assert "FunctionError" not in ok
    assert json.loads(ok["Payload"].read())["event"] == {"a": 1}
    assert failed["FunctionError"] == "Unhandled"
    error = json.loads(failed["Payload"].read())
    assert (error["errorType"], error["errorMessage"]) == ("ValueError", "cannot handle 3")
    assert isinstance(error["stackTrace"], list)


def test_given_an_event_invocation_then_the_handler_runs_in_the_background(toy):
    client = boto3.client("lambda")

    response = client.invoke(
        FunctionName="signoff-RecordFunction", InvocationType="Event", Payload=b'{"note_id": "n1"}'
    )

    assert response["StatusCode"] == 202
    dynamodb = boto3.client("dynamodb")
    deadline = time.monotonic() + 10
    item = None
    while item is None and time.monotonic() < deadline:
        item = dynamodb.get_item(TableName="signoff-NotesTable", Key={"note_id": {"S": "n1"}}).get(
            "Item"
        )
        time.sleep(0.05)
    assert item is not None
    assert json.loads(item["body"]["S"]) == {"note_id": "n1"}


def test_given_a_function_with_no_handler_in_the_local_cloud_then_invoke_says_so(toy):
    client = boto3.client("lambda")
    client.create_function(
        FunctionName="stranger",
        Runtime="python3.11",
        Role=toy.roles["EchoFunctionRole"].arn,
        Handler="app.handler",
        Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18},
    )

    response = client.invoke(FunctionName="stranger", Payload=b"{}")

    assert response["FunctionError"] == "Unhandled"
    assert json.loads(response["Payload"].read())["errorType"] == "Runtime.HandlerNotFound"


def test_given_an_unknown_function_then_invoke_is_lambdas_resource_not_found(toy):
    client = boto3.client("lambda")

    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.invoke(FunctionName="nobody", Payload=b"{}")


# ------------------------------------------------------------------ d. StopExecution


def test_moto_still_stops_executions_and_pools_callbacks_where_the_patch_expects():
    moto_patches.apply_patches()
    assert Execution.stop is moto_patches.stop_releasing_task_tokens
    parameters = inspect.signature(moto_patches._stop_without_release).parameters
    assert list(parameters) == ["self", "stop_date", "error", "cause"]
    assert "_pool" in inspect.getsource(CallbackPoolManager.__init__)


def test_given_an_execution_waiting_on_a_task_token_when_stopped_then_it_is_aborted(toy):
    sfn = boto3.client("stepfunctions")
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Review",
        "States": {
            "Review": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                "Arguments": {
                    "FunctionName": toy.function("echo").function_arn,
                    "Payload": {"token": "{% $states.context.Task.Token %}"},
                },
                "TimeoutSeconds": 300,
                # A stop is not an error: no Catch may see it.
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}],
                "End": True,
            },
            "Caught": {"Type": "Pass", "End": True},
        },
    }
    machine = sfn.create_state_machine(
        name="review", definition=json.dumps(definition), roleArn=ROLE_ARN
    )
    execution_arn = sfn.start_execution(
        stateMachineArn=machine["stateMachineArn"], name="waiting", input="{}"
    )["executionArn"]

    def history_types() -> list[str]:
        events = sfn.get_execution_history(executionArn=execution_arn)["events"]
        return [event["type"] for event in events]

    deadline = time.monotonic() + 10
    while "TaskSubmitted" not in history_types() and time.monotonic() < deadline:
        time.sleep(0.05)
    (scheduled,) = [
        event
        for event in sfn.get_execution_history(executionArn=execution_arn)["events"]
        if event["type"] == "TaskScheduled"
    ]
    parameters = json.loads(scheduled["taskScheduledEventDetails"]["parameters"])
    token = parameters["Payload"]["token"]

    sfn.stop_execution(executionArn=execution_arn)

    deadline = time.monotonic() + 10
    status = sfn.describe_execution(executionArn=execution_arn)["status"]
    while status == "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.05)
        status = sfn.describe_execution(executionArn=execution_arn)["status"]
    assert status == "ABORTED"
    types = history_types()
    assert types[-1] == "ExecutionAborted"
    assert "PassStateEntered" not in types
    # The stopped execution's token is spent, as on AWS.
    with pytest.raises(ClientError):
        sfn.send_task_success(taskToken=token, output="{}")


# ------------------------------------------------------------------ e. DynamoDB one at a time


def test_moto_still_dispatches_dynamodb_requests_through_the_patched_call_action():
    from moto.dynamodb.responses import DynamoHandler

    moto_patches.apply_patches()
    assert DynamoHandler.call_action is moto_patches.call_dynamodb_action_serially
    assert list(inspect.signature(moto_patches._dynamodb_call_action).parameters) == ["self"]


def test_given_racing_conditional_writes_then_exactly_one_passes_each_condition(aws):
    import sys
    import threading

    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    dynamodb.create_table(
        TableName="race",
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    not_exclusive = 0
    previous_interval = sys.getswitchinterval()
    # Thread switches between moto's condition check and its write were what let two pass.
    sys.setswitchinterval(1e-6)
    try:
        for trial in range(40):
            key = {"k": {"S": str(trial)}}
            dynamodb.put_item(TableName="race", Item={**key, "s": {"S": "pending"}})
            barrier = threading.Barrier(4)
            winners: list[int] = []

            def decide(
                index: int,
                key: dict = key,
                barrier: threading.Barrier = barrier,
                winners: list[int] = winners,
            ) -> None:
                barrier.wait()
                try:
                    dynamodb.update_item(
                        TableName="race",
                        Key=key,
                        UpdateExpression="SET s = :done, w = :who",
                        ConditionExpression="s = :pending",
                        ExpressionAttributeValues={
                            ":done": {"S": "done"},
                            ":pending": {"S": "pending"},
                            ":who": {"N": str(index)},
                        },
                    )
                    winners.append(index)
                except ClientError:
                    pass

            workers = [threading.Thread(target=decide, args=(i,)) for i in range(4)]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
            not_exclusive += len(winners) != 1
    finally:
        sys.setswitchinterval(previous_interval)

    assert not_exclusive == 0
