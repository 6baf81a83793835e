"""run_node end to end: the event in, the node run, its execution recorded in moto's DynamoDB.

The code runner here calls the sandbox in this process (run_python) and reads its answer exactly
as the Lambda runner reads the sandbox function's; test_node_function.py covers the Lambda hop.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from signoff.nodes.code_runner import result_from_sandbox_response
from signoff.nodes.errors import (
    CodeExecutionError,
    CodeOutputError,
    InvalidNodeConfig,
    InvalidNodeEvent,
    TemplateRenderError,
    UnsupportedNodeType,
    VariableNotFound,
)
from signoff.nodes.runtime import run_node
from signoff.sandbox import SandboxLimits, run_python
from signoff.store.node_executions import (
    DynamoNodeExecutionRepository,
    NodeExecution,
    NodeExecutionStatus,
)

pytestmark = pytest.mark.integration

T0 = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
RUN = {
    "run_id": "run-1",
    "tenant_id": "tenant-a",
    "workflow_id": "hello",
    "workflow_version": 1,
    "user": "ada@example.com",
}
LIMITS = SandboxLimits(cpu_seconds=1, memory_mb=96, wall_seconds=20, max_output_bytes=10_000)


class InProcessSandbox:
    """A CodeRunner calling the sandbox directly; it records what it was asked to run."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict[str, Any]]] = []

    def run(self, language: str, code: str, inputs: dict[str, Any]) -> dict[str, Any]:
        self.calls.append((language, code, inputs))
        return result_from_sandbox_response(run_python(code, inputs, LIMITS).to_response())


def ticking_clock(step_ms: int = 25) -> Callable[[], datetime]:
    ticks: Iterator[int] = iter(range(0, 10_000 * step_ms, step_ms))
    return lambda: T0 + timedelta(milliseconds=next(ticks))


@pytest.fixture
def executions(dynamodb: Any, tables: dict[str, str]) -> DynamoNodeExecutionRepository:
    return DynamoNodeExecutionRepository(tables["NodeExecutionsTable"], client=dynamodb)


@pytest.fixture
def sandbox() -> InProcessSandbox:
    return InProcessSandbox()


@pytest.fixture
def run(executions, sandbox) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def run_event(event: dict[str, Any]) -> dict[str, Any]:
        return run_node(event, executions=executions, code_runner=sandbox, clock=ticking_clock())

    return run_event


def recorded(executions: DynamoNodeExecutionRepository) -> NodeExecution:
    [execution] = executions.list_for_run("tenant-a", "run-1")
    return execution


def code_event(code: str, *, outputs: dict[str, Any], variables: dict[str, Any] | None = None):
    return {
        "run": RUN,
        "node": {
            "id": "normalize",
            "type": "code",
            "title": "Normalize the name",
            "config": {
                "code_language": "python3",
                "code": code,
                "variables": [
                    {"variable": "name", "value_selector": ["start", "name"]},
                    {"variable": "user", "value_selector": ["sys", "user"]},
                ],
                "outputs": outputs,
            },
        },
        "variables": {"start": {"name": "  Ada  "}} if variables is None else variables,
        "attempt": 1,
    }


GREET_EVENT = {
    "run": RUN,
    "node": {
        "id": "greet",
        "type": "template-transform",
        "title": "Greet",
        "config": {
            "template": "Hello, {{ name }}! (run {{ run }})",
            "variables": [
                {"variable": "name", "value_selector": ["normalize", "name"]},
                {"variable": "run", "value_selector": ["sys", "run_id"]},
            ],
        },
    },
    "variables": {"normalize": {"name": "Ada"}},
    "attempt": 1,
}


def test_given_a_template_node_when_run_then_it_answers_and_records_its_output(run, executions):
    answer = run(GREET_EVENT)

    assert answer == {
        "outputs": {"output": "Hello, Ada! (run run-1)"},
        "status": "succeeded",
        "handle": "source",
    }
    execution = recorded(executions)
    assert execution.status is NodeExecutionStatus.SUCCEEDED
    assert (execution.node_id, execution.node_type, execution.title) == (
        "greet",
        "template-transform",
        "Greet",
    )
    assert execution.inputs == {"name": "Ada", "run": "run-1"}
    assert execution.outputs == {"output": "Hello, Ada! (run run-1)"}
    assert execution.started_at == "2025-03-01T12:00:00.000Z"
    assert execution.elapsed_ms == 25


def test_given_a_code_node_when_run_then_main_gets_the_variables_and_its_outputs_are_checked(
    run, executions, sandbox
):
    code = (
        "def main(name: str, user: str) -> dict:\n    return {'name': name.strip(), 'by': user}\n"
    )

    answer = run(code_event(code, outputs={"name": {"type": "string"}, "by": {"type": "string"}}))

    assert answer["outputs"] == {"name": "Ada", "by": "ada@example.com"}
    assert sandbox.calls == [("python3", code, {"name": "  Ada  ", "user": "ada@example.com"})]
    execution = recorded(executions)
    assert execution.status is NodeExecutionStatus.SUCCEEDED
    assert execution.inputs == {"name": "  Ada  ", "user": "ada@example.com"}
    assert execution.outputs == answer["outputs"]


def test_given_code_that_raises_when_run_then_the_node_fails_with_the_code_error(run, executions):
    code = "def main(name, user):\n    raise ValueError(f'bad name {name.strip()}')\n"

    with pytest.raises(
        CodeExecutionError, match=r"^CodeError: ValueError: bad name Ada\n"
    ) as caught:
        run(code_event(code, outputs={"name": {"type": "string"}}))

    assert caught.value.kind == "CodeError"
    execution = recorded(executions)
    assert execution.status is NodeExecutionStatus.FAILED
    assert execution.error is not None
    assert execution.error.type == "CodeExecutionError"
    assert "ValueError: bad name Ada" in execution.error.message
    assert execution.inputs == {"name": "  Ada  ", "user": "ada@example.com"}


def test_given_code_returning_a_wrong_type_when_run_then_the_output_is_named(run, executions):
    code = "def main(name, user):\n    return {'name': 42}\n"

    with pytest.raises(CodeOutputError, match="output name: must be string, not number"):
        run(code_event(code, outputs={"name": {"type": "string"}}))

    execution = recorded(executions)
    assert execution.error is not None
    assert execution.error.type == "CodeOutputError"


def test_given_a_selector_naming_a_node_not_passed_when_run_then_the_variable_is_not_found(
    run, executions, sandbox
):
    code = "def main(name, user):\n    return {'name': name}\n"

    with pytest.raises(VariableNotFound, match=r"start\.name"):
        run(code_event(code, outputs={"name": {"type": "string"}}, variables={}))

    assert sandbox.calls == []
    execution = recorded(executions)
    assert execution.status is NodeExecutionStatus.FAILED
    assert execution.error is not None and execution.error.type == "VariableNotFound"
    assert execution.inputs == {}


def test_given_a_skipped_upstream_node_when_run_then_its_variables_are_null(run, executions):
    code = "def main(name, user):\n    return {'name': name}\n"

    answer = run(code_event(code, outputs={"name": {"type": "string"}}, variables={"start": None}))

    assert answer["outputs"] == {"name": None}


def test_given_an_unsafe_template_when_run_then_the_node_fails_refused(run, executions):
    event = {
        **GREET_EVENT,
        "node": {**GREET_EVENT["node"], "config": {"template": "{{ ''.__class__ }}"}},
    }

    with pytest.raises(TemplateRenderError, match="refused"):
        run(event)

    assert recorded(executions).error.type == "TemplateRenderError"  # type: ignore[union-attr]


def test_given_a_logic_node_when_run_then_it_is_an_unsupported_type(run, executions):
    event = {**GREET_EVENT, "node": {"id": "branch", "type": "if-else", "config": {}}}

    with pytest.raises(UnsupportedNodeType, match="if-else"):
        run(event)

    assert recorded(executions).error.type == "UnsupportedNodeType"  # type: ignore[union-attr]


def test_given_a_node_config_that_does_not_fit_its_type_when_run_then_it_is_invalid(
    run, executions
):
    event = {**GREET_EVENT, "node": {"id": "greet", "type": "template-transform", "config": {}}}

    with pytest.raises(InvalidNodeConfig, match="template"):
        run(event)

    assert recorded(executions).status is NodeExecutionStatus.FAILED


def test_given_a_malformed_event_when_run_then_it_fails_without_a_record(run, executions):
    with pytest.raises(InvalidNodeEvent, match="run"):
        run({"node": GREET_EVENT["node"], "variables": {}})

    assert executions.list_for_run("tenant-a", "run-1") == []


def test_given_a_retry_when_run_again_then_each_attempt_has_its_own_record(executions, sandbox):
    clock = ticking_clock()
    for attempt in (1, 2):
        run_node(
            {**GREET_EVENT, "attempt": attempt},
            executions=executions,
            code_runner=sandbox,
            clock=clock,
        )

    listed = executions.list_for_run("tenant-a", "run-1")

    assert [(e.node_id, e.attempt) for e in listed] == [("greet", 1), ("greet", 2)]
    assert listed[0].node_execution_id.endswith("#greet#001")
    assert listed[1].node_execution_id.endswith("#greet#002")
