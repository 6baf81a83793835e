"""StopExecution of an execution waiting on task tokens inside a Map item or Parallel branch: on
AWS the execution ends ABORTED at once, and no Retry or Catch sees the stop. moto 5.2.5 fails the
state instead (signoff/local/moto_patches.py `evaluate_state_aborting_on_stop` corrects it).

Pinned: moto==5.2.5. A failure in the first tests after a moto upgrade means the patch no longer
fits the code it wraps."""

from __future__ import annotations

import inspect
import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.stepfunctions.parser.asl.component.state.exec.execute_state import ExecutionState
from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.inline_iteration_component import (  # noqa: E501
    InlineIterationComponent,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.itemprocessor.inline_item_processor import (  # noqa: E501
    InlineItemProcessor,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.iteration_worker import (  # noqa: E501
    IterationWorker,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.iterator.inline_iterator import (  # noqa: E501
    InlineIterator,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_map.state_map import StateMap
from moto.stepfunctions.parser.asl.component.state.exec.state_parallel.branches_decl import (
    BranchesDecl,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_parallel.state_parallel import (
    StateParallel,
)

from signoff.local import moto_patches
from signoff.local.functions import FunctionRunner, activate
from signoff.local.provision import StackPlan, plan_stack, provision_stack

pytestmark = pytest.mark.integration

ROLE_ARN = "arn:aws:iam::123456789012:role/signoff-ExecutionRole"
CATCH_ALL = [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}]
RETRY_ALL = [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 2, "IntervalSeconds": 1}]


@pytest.fixture
def toy(aws, toy_template) -> Iterator[StackPlan]:
    plan = plan_stack(toy_template)
    provision_stack(plan, {name: boto3.client(name) for name in ("dynamodb", "iam", "lambda")})
    previous = activate(FunctionRunner(plan.functions))
    try:
        yield plan
    finally:
        activate(previous)


# ------------------------------------------------------------------ state machines


def waiting_task(function_arn: str) -> dict[str, Any]:
    """A task that waits on a person: it hands its token to the echo function and waits."""
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Arguments": {
            "FunctionName": function_arn,
            "Payload": {"token": "{% $states.context.Task.Token %}"},
        },
        "TimeoutSeconds": 300,
        "End": True,
    }


def body(function_arn: str) -> dict[str, Any]:
    return {"StartAt": "Review", "States": {"Review": waiting_task(function_arn)}}


def each_item_waits(function_arn: str, **handling: Any) -> dict[str, Any]:
    return {
        "Type": "Map",
        "Items": "{% $states.input.items %}",
        "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, **body(function_arn)},
        **handling,
    }


def machine(first: dict[str, Any]) -> dict[str, Any]:
    """`first` runs, then (were it ever to end) a Pass; a Catch route lands on `Caught`."""
    return {
        "QueryLanguage": "JSONata",
        "StartAt": "First",
        "States": {
            "First": {**first, "Next": "After"},
            "After": {"Type": "Pass", "End": True},
            "Caught": {"Type": "Pass", "End": True},
        },
    }


def map_of_waiting_items(function_arn: str) -> dict[str, Any]:
    return machine(each_item_waits(function_arn))


def parallel_of_waiting_branches(function_arn: str) -> dict[str, Any]:
    return machine({"Type": "Parallel", "Branches": [body(function_arn), body(function_arn)]})


def map_inside_a_parallel_branch(function_arn: str) -> dict[str, Any]:
    outer = {
        "StartAt": "Inner",
        "States": {"Inner": {**each_item_waits(function_arn), "End": True}},
    }
    return machine({"Type": "Parallel", "Branches": [outer]})


def map_with_retry_and_catch(function_arn: str) -> dict[str, Any]:
    return machine(each_item_waits(function_arn, Retry=RETRY_ALL, Catch=CATCH_ALL))


# ------------------------------------------------------------------ driving an execution


class Waiting:
    """An execution started and driven until `waits` tasks wait on their tokens."""

    def __init__(self, definition: dict[str, Any], waits: int) -> None:
        self.sfn = boto3.client("stepfunctions")
        created = self.sfn.create_state_machine(
            name=f"m{time.monotonic_ns()}", definition=json.dumps(definition), roleArn=ROLE_ARN
        )
        self.threads_before = set(threading.enumerate())
        self.arn = self.sfn.start_execution(
            stateMachineArn=created["stateMachineArn"], input=json.dumps({"items": [1, 2]})
        )["executionArn"]
        until(lambda: self.types().count("TaskSubmitted") == waits)

    def events(self) -> list[dict[str, Any]]:
        return self.sfn.get_execution_history(executionArn=self.arn)["events"]

    def types(self) -> list[str]:
        return [event["type"] for event in self.events()]

    def tokens(self) -> list[str]:
        return [
            json.loads(event["taskScheduledEventDetails"]["parameters"])["Payload"]["token"]
            for event in self.events()
            if event["type"] == "TaskScheduled"
        ]

    def stop(self, **reason: str) -> dict[str, Any]:
        self.sfn.stop_execution(executionArn=self.arn, **reason)
        until(lambda: self.describe()["status"] != "RUNNING")
        return self.describe()

    def describe(self) -> dict[str, Any]:
        return self.sfn.describe_execution(executionArn=self.arn)

    def threads_left(self) -> list[threading.Thread]:
        return [t for t in threading.enumerate() if t not in self.threads_before and t.is_alive()]


def until(condition: Callable[[], bool], timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the execution never got there")
        time.sleep(0.05)


# ------------------------------------------------------------------ what the patch relies on


def test_moto_still_evaluates_states_items_and_branches_through_the_patched_methods():
    moto_patches.apply_patches()
    assert ExecutionState._evaluate_with_timeout is moto_patches.evaluate_state_aborting_on_stop
    assert InlineIterationComponent._eval_body is moto_patches.iterate_until_every_item_ends
    assert BranchesDecl._eval_body is moto_patches.run_branches_failing_on_stop
    for original in (
        moto_patches._evaluate_state,
        moto_patches._iterate,
        moto_patches._run_branches,
    ):
        assert list(inspect.signature(original).parameters) == ["self", "env"]
    for state in (StateMap, StateParallel):
        # Neither overrides the evaluation; each handles what it raises as the state's failure.
        assert "_evaluate_with_timeout" not in vars(state), state.__name__
        assert "self._evaluate_with_timeout(env)" in inspect.getsource(state._eval_state)
    for iteration in (InlineItemProcessor, InlineIterator):
        assert "_eval_body" not in vars(iteration), iteration.__name__


def test_moto_still_runs_each_map_item_in_a_frame_it_closes_when_the_item_ends():
    source = " ".join(inspect.getsource(IterationWorker).split())
    assert "worker_frame=self._env.open_frame()" in source
    assert source.count("self._env.close_frame(worker_frame)") == 3


# ------------------------------------------------------------------ the stop ends them ABORTED


@pytest.mark.parametrize(
    ("build", "waits", "aborted_state"),
    [
        (map_of_waiting_items, 2, "MapStateAborted"),
        (parallel_of_waiting_branches, 2, "ParallelStateAborted"),
        (map_inside_a_parallel_branch, 2, "ParallelStateAborted"),
    ],
    ids=["map", "parallel", "map-in-parallel"],
)
def test_given_tasks_waiting_inside_a_body_when_stopped_then_the_execution_is_aborted(
    toy, build, waits, aborted_state
):
    # Given two tasks waiting on their tokens inside a Map's items or a Parallel's branches
    execution = Waiting(build(toy.function("echo").function_arn), waits)
    tokens = execution.tokens()

    # When the execution is stopped, with a reason
    described = execution.stop(error="Cancelled", cause="the run was cancelled")

    # Then it is ABORTED, keeping the stop's reason, and nothing after the stop runs
    assert described["status"] == "ABORTED"
    assert described["error"] == "Cancelled"
    assert described["cause"] == "the run was cancelled"
    types = execution.types()
    assert types[-2:] == [aborted_state, "ExecutionAborted"]
    for never in ("ExecutionFailed", "MapStateFailed", "ParallelStateFailed", "PassStateEntered"):
        assert never not in types
    # every waiting task's token is spent, as on AWS
    for token in tokens:
        with pytest.raises(ClientError):
            execution.sfn.send_task_success(taskToken=token, output="{}")
    # and no thread the execution started is left waiting
    until(lambda: not execution.threads_left())


def test_given_a_map_with_retry_and_catch_all_when_stopped_then_neither_sees_the_stop(toy):
    # Given a Map that retries and catches every error, its two items waiting
    execution = Waiting(map_with_retry_and_catch(toy.function("echo").function_arn), 2)

    # When the execution is stopped
    described = execution.stop()

    # Then it is ABORTED: the Map is neither retried nor routed to its Catch
    assert described["status"] == "ABORTED"
    types = execution.types()
    assert types[-4:] == [
        "MapIterationAborted",
        "MapIterationAborted",
        "MapStateAborted",
        "ExecutionAborted",
    ]
    assert types.count("MapStateEntered") == 1
    assert types.count("MapIterationStarted") == 2
    assert "PassStateEntered" not in types
    until(lambda: not execution.threads_left())


def test_given_a_map_whose_items_fail_when_not_stopped_then_the_map_still_fails(aws):
    # Given a Map whose items fail on their own (no stop): the patch must leave failures alone
    failing_item = {
        "Type": "Map",
        "Items": "{% $states.input.items %}",
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": "INLINE"},
            "StartAt": "Fail",
            "States": {"Fail": {"Type": "Fail", "Error": "Broken", "Cause": "on purpose"}},
        },
        "Catch": CATCH_ALL,
    }
    sfn = boto3.client("stepfunctions")
    created = sfn.create_state_machine(
        name="fails", definition=json.dumps(machine(failing_item)), roleArn=ROLE_ARN
    )
    arn = sfn.start_execution(stateMachineArn=created["stateMachineArn"], input='{"items": [1]}')[
        "executionArn"
    ]

    # When it runs
    until(lambda: sfn.describe_execution(executionArn=arn)["status"] != "RUNNING")

    # Then the Map fails and its Catch routes on, as before
    described = sfn.describe_execution(executionArn=arn)
    assert described["status"] == "SUCCEEDED"
    types = [e["type"] for e in sfn.get_execution_history(executionArn=arn)["events"]]
    assert "MapStateFailed" in types
    assert "MapStateAborted" not in types
    assert json.loads(described["output"])["Error"] == "Broken"
