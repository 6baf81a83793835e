"""Retries and error strategies in the node function: every attempt recorded in moto's DynamoDB,
sub-second intervals slept for real (the sleep is observed, never timed), and the default-value /
fail-branch / none strategies answering as the compiler expects.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from signoff.nodes.errors import CodeExecutionError, VariableNotFound
from signoff.nodes.runtime import run_node
from signoff.store.node_executions import DynamoNodeExecutionRepository, NodeExecutionStatus

pytestmark = pytest.mark.integration

T0 = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
RUN = {"run_id": "run-1", "tenant_id": "tenant-a", "workflow_id": "flaky"}


class FlakyCodeRunner:
    """A CodeRunner that fails its first `failures` calls, then returns `result`."""

    def __init__(self, failures: int, result: dict[str, Any] | None = None) -> None:
        self.failures = failures
        self.result = result or {"answer": 42}
        self.calls = 0

    def run(self, language: str, code: str, inputs: dict[str, Any]) -> dict[str, Any]:
        self.calls += 1
        if self.calls <= self.failures:
            raise CodeExecutionError(f"attempt {self.calls} broke", kind="CodeError")
        return self.result


class Sleeps:
    def __init__(self) -> None:
        self.seconds: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)


def ticking_clock(step_ms: int = 10) -> Callable[[], datetime]:
    ticks: Iterator[int] = iter(range(0, 10_000 * step_ms, step_ms))
    return lambda: T0 + timedelta(milliseconds=next(ticks))


def code_event(**settings: Any) -> dict[str, Any]:
    return {
        "run": RUN,
        "node": {
            "id": "compute",
            "type": "code",
            "title": "Compute",
            "config": {
                "code_language": "python3",
                "code": "def main(x):\n    return {'answer': 42}\n",
                "variables": [{"variable": "x", "value_selector": ["start", "x"]}],
                "outputs": {"answer": {"type": "number"}},
                **settings,
            },
        },
        "variables": {"start": {"x": 1}},
        "attempt": 1,
    }


RETRY_TWICE = {"retry_config": {"retry_enabled": True, "max_retries": 2, "retry_interval": 250}}


@pytest.fixture
def executions(dynamodb: Any, tables: dict[str, str]) -> DynamoNodeExecutionRepository:
    return DynamoNodeExecutionRepository(tables["NodeExecutionsTable"], client=dynamodb)


def run(
    event: dict[str, Any],
    executions: DynamoNodeExecutionRepository,
    runner: FlakyCodeRunner,
    sleeps: Sleeps | None = None,
) -> dict[str, Any]:
    return run_node(
        event,
        executions=executions,
        code_runner=runner,
        clock=ticking_clock(),
        sleep=sleeps or Sleeps(),
    )


def records(executions: DynamoNodeExecutionRepository) -> list[Any]:
    return executions.list_for_run("tenant-a", "run-1")


def test_given_a_node_failing_twice_with_two_retries_when_run_then_three_attempts_are_recorded(
    executions,
):
    runner, sleeps = FlakyCodeRunner(failures=2), Sleeps()

    answer = run(code_event(**RETRY_TWICE), executions, runner, sleeps)

    assert answer == {"outputs": {"answer": 42}, "status": "succeeded", "handle": "source"}
    listed = records(executions)
    assert [(r.attempt, r.status) for r in listed] == [
        (1, NodeExecutionStatus.FAILED),
        (2, NodeExecutionStatus.FAILED),
        (3, NodeExecutionStatus.SUCCEEDED),
    ]
    assert [r.error.message for r in listed[:2]] == [  # type: ignore[union-attr]
        "CodeError: attempt 1 broke",
        "CodeError: attempt 2 broke",
    ]
    assert all(r.inputs == {"x": 1} for r in listed)
    # 250 ms, as configured: not rounded to a whole second.
    assert sleeps.seconds == [0.25, 0.25]


def test_given_retries_exhausted_and_no_strategy_when_run_then_the_last_error_is_raised(
    executions,
):
    runner = FlakyCodeRunner(failures=5)

    with pytest.raises(CodeExecutionError, match="attempt 3 broke"):
        run(code_event(**RETRY_TWICE), executions, runner)

    assert runner.calls == 3
    assert [r.status for r in records(executions)] == [NodeExecutionStatus.FAILED] * 3


def test_given_retry_disabled_when_the_node_fails_then_it_runs_once(executions):
    runner, sleeps = FlakyCodeRunner(failures=1), Sleeps()
    event = code_event(retry_config={"retry_enabled": False, "max_retries": 3})

    with pytest.raises(CodeExecutionError):
        run(event, executions, runner, sleeps)

    assert runner.calls == 1
    assert sleeps.seconds == []


def test_given_default_value_when_the_node_fails_then_it_answers_the_typed_defaults(executions):
    event = code_event(
        error_strategy="default-value",
        default_value=[
            {"key": "answer", "type": "number", "value": 0},
            {"key": "note", "type": "string", "value": "fallback"},
        ],
    )

    answer = run(event, executions, FlakyCodeRunner(failures=1))

    assert answer == {
        "outputs": {
            "answer": 0,
            "note": "fallback",
            "error_type": "CodeExecutionError",
            "error_message": "CodeError: attempt 1 broke",
        },
        "status": "exception",
        "handle": "source",
    }
    [record] = records(executions)
    assert record.status is NodeExecutionStatus.EXCEPTION
    assert record.outputs == answer["outputs"]
    assert record.error is not None and record.error.type == "CodeExecutionError"


def test_given_fail_branch_when_the_node_fails_then_it_leaves_by_the_fail_branch(executions):
    answer = run(code_event(error_strategy="fail-branch"), executions, FlakyCodeRunner(9))

    assert answer == {
        "outputs": {
            "error_type": "CodeExecutionError",
            "error_message": "CodeError: attempt 1 broke",
        },
        "status": "exception",
        "handle": "fail-branch",
    }
    assert records(executions)[0].status is NodeExecutionStatus.EXCEPTION


def test_given_fail_branch_when_the_node_succeeds_then_it_leaves_by_the_success_branch(
    executions,
):
    answer = run(code_event(error_strategy="fail-branch"), executions, FlakyCodeRunner(0))

    assert answer == {"outputs": {"answer": 42}, "status": "succeeded", "handle": "success-branch"}


def test_given_retries_and_fail_branch_when_every_attempt_fails_then_only_the_last_is_exception(
    executions,
):
    event = code_event(error_strategy="fail-branch", **RETRY_TWICE)

    answer = run(event, executions, FlakyCodeRunner(failures=3))

    assert answer["handle"] == "fail-branch"
    assert [r.status for r in records(executions)] == [
        NodeExecutionStatus.FAILED,
        NodeExecutionStatus.FAILED,
        NodeExecutionStatus.EXCEPTION,
    ]


def test_given_a_missing_variable_and_default_value_when_run_then_the_strategy_applies(
    executions,
):
    event = {
        **code_event(
            error_strategy="default-value",
            default_value=[{"key": "answer", "type": "number", "value": -1}],
            **RETRY_TWICE,
        ),
        "variables": {},
    }
    runner = FlakyCodeRunner(failures=0)

    answer = run(event, executions, runner)

    # Resolving variables is not retried: the same event would fail the same way.
    assert runner.calls == 0
    assert answer["status"] == "exception"
    assert answer["outputs"]["answer"] == -1
    assert answer["outputs"]["error_type"] == VariableNotFound.__name__
    [record] = records(executions)
    assert record.status is NodeExecutionStatus.EXCEPTION
