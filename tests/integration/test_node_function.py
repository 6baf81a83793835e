"""The node function as Lambda runs it: invoked through moto, its code nodes run by the sandbox
function (invoked in turn through moto's Lambda), its executions written to the template's table.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from signoff.local.provision import StackPlan
from signoff.nodes.code_runner import LambdaCodeRunner
from signoff.nodes.errors import CodeExecutionError, SandboxUnavailable
from signoff.store.node_executions import DynamoNodeExecutionRepository, NodeExecutionStatus

pytestmark = pytest.mark.integration

REGION = "us-east-1"
RUN = {"run_id": "run-1", "tenant_id": "tenant-a", "workflow_id": "hello", "user": "ada"}


def code_event(code: str) -> dict[str, Any]:
    return {
        "run": RUN,
        "node": {
            "id": "normalize",
            "type": "code",
            "title": "Normalize",
            "config": {
                "code_language": "python3",
                "code": code,
                "variables": [{"variable": "name", "value_selector": ["start", "name"]}],
                "outputs": {"name": {"type": "string"}},
            },
        },
        "variables": {"start": {"name": "  Ada "}},
        "attempt": 1,
    }


def invoke(stack: StackPlan, event: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    response = boto3.client("lambda", region_name=REGION).invoke(
        FunctionName=stack.function("node").function_name,
        InvocationType="RequestResponse",
        Payload=json.dumps(event).encode(),
    )
    return json.loads(response["Payload"].read()), response.get("FunctionError")


def executions(stack: StackPlan) -> DynamoNodeExecutionRepository:
    table = stack.table_names["NodeExecutionsTable"]
    return DynamoNodeExecutionRepository(table, client=boto3.client("dynamodb", region_name=REGION))


def test_given_a_code_node_when_the_node_function_runs_it_then_the_sandbox_answers(stack):
    answer, function_error = invoke(
        stack, code_event("def main(name):\n    return {'name': name.strip()}\n")
    )

    assert function_error is None
    assert answer["outputs"] == {"name": "Ada"}
    [execution] = executions(stack).list_for_run("tenant-a", "run-1")
    assert execution.status is NodeExecutionStatus.SUCCEEDED
    assert execution.outputs == {"name": "Ada"}


def test_given_failing_code_when_the_node_function_runs_it_then_lambda_reports_the_typed_error(
    stack,
):
    answer, function_error = invoke(
        stack, code_event("def main(name):\n    return {'name': 1 / 0}\n")
    )

    # What Step Functions' Retry/Catch match on: the error type is the exception's class name.
    assert function_error == "Unhandled"
    assert answer["errorType"] == "CodeExecutionError"
    assert answer["errorMessage"].startswith("CodeError: ZeroDivisionError: division by zero")
    [execution] = executions(stack).list_for_run("tenant-a", "run-1")
    assert execution.status is NodeExecutionStatus.FAILED
    assert execution.error is not None and execution.error.type == "CodeExecutionError"


def test_given_the_sandbox_function_when_called_by_the_lambda_runner_then_it_answers_the_result(
    stack,
):
    runner = LambdaCodeRunner(
        stack.function("sandbox").function_name, boto3.client("lambda", region_name=REGION)
    )

    assert runner.run("python3", "def main(a):\n    return {'b': a * 2}\n", {"a": 21}) == {"b": 42}


def test_given_a_sandbox_limit_when_hit_then_the_lambda_runner_raises_with_its_kind(stack):
    runner = LambdaCodeRunner(
        stack.function("sandbox").function_name, boto3.client("lambda", region_name=REGION)
    )

    with pytest.raises(CodeExecutionError) as caught:
        runner.run("python3", "def main():\n    return [1]\n", {})

    assert caught.value.kind == "CodeContractError"
    assert str(caught.value) == "CodeContractError: main() must return a dict, it returned list"


def test_given_a_function_that_raises_when_the_lambda_runner_invokes_it_then_it_is_a_code_error(
    stack,
):
    # The node function refuses a sandbox request (not a node event): a function error, as a
    # crashed or timed-out sandbox function would give.
    runner = LambdaCodeRunner(
        stack.function("node").function_name, boto3.client("lambda", region_name=REGION)
    )

    with pytest.raises(CodeExecutionError, match=r"sandbox function failed \(InvalidNodeEvent\)"):
        runner.run("python3", "def main():\n    return {}\n", {})


def test_given_no_sandbox_function_when_the_lambda_runner_invokes_it_then_it_is_unavailable(stack):
    runner = LambdaCodeRunner("no-such-function", boto3.client("lambda", region_name=REGION))

    with pytest.raises(SandboxUnavailable, match="no-such-function"):
        runner.run("python3", "def main():\n    return {}\n", {})
