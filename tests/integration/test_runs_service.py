"""Runs against moto with executions left running: starting, waiting, reading, reconciling."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from signoff.errors import InvalidInput, NotFound
from signoff.runs.service import RunService, RunStartFailed
from signoff.store.node_executions import (
    DynamoNodeExecutionRepository,
    NodeExecution,
    NodeFailure,
)
from signoff.store.runs import DynamoRunRepository, RunStatus
from signoff.store.workflows import DynamoWorkflowRepository
from signoff.workflows.service import WorkflowService
from tests.support.service_settings import service_settings
from tests.support.workflows import greeter

GREETER = greeter()

pytestmark = pytest.mark.integration


class ManualClock:
    """Time that moves only when the service sleeps: waits end by count, not by speed."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []
        self.on_sleep: Any = None

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        if self.on_sleep is not None:
            self.on_sleep()


class World:
    def __init__(self, clients: dict[str, Any], tables: dict[str, str], clock: ManualClock):
        self.sfn = clients["sfn"]
        self.clock = clock
        self.settings = service_settings(tables, blocking_wait_seconds=5)
        self.workflows = DynamoWorkflowRepository(tables["WorkflowsTable"], clients["dynamodb"])
        self.runs = DynamoRunRepository(tables["RunsTable"], clients["dynamodb"])
        self.nodes = DynamoNodeExecutionRepository(
            tables["NodeExecutionsTable"], client=clients["dynamodb"]
        )
        self.workflow_service = WorkflowService(self.workflows, self.sfn, self.settings)
        self.service = RunService(
            self.runs,
            self.workflows,
            self.nodes,
            self.sfn,
            self.settings,
            sleep=clock.sleep,
            clock=clock,
        )


@pytest.fixture
def world(aws_clients: dict[str, Any]) -> World:
    world = World(aws_clients, aws_clients["tables"], ManualClock())
    world.workflow_service.create("tenant-a", GREETER)
    return world


def node_execution(run_id: str, node_id: str, second: int, attempt: int = 1) -> NodeExecution:
    return NodeExecution.begin(
        tenant_id="tenant-a",
        run_id=run_id,
        node_id=node_id,
        node_type="template-transform",
        title=node_id,
        attempt=attempt,
        inputs={"name": "Ada"},
        started_at=datetime(2024, 1, 1, tzinfo=UTC) + timedelta(seconds=second),
    )


def settle_event(run_id: str, status: str, **fields: Any) -> dict[str, Any]:
    return {"run": {"run_id": run_id, "tenant_id": "tenant-a"}, "status": status, **fields}


def test_given_valid_inputs_when_started_then_the_execution_gets_the_run_context_and_inputs(
    world,
):
    started = world.service.start("tenant-a", "greeter", {"name": "Ada"}, user="ada")

    run = started.run
    assert run.status is RunStatus.RUNNING
    execution = world.sfn.describe_execution(executionArn=run.execution_arn)
    assert execution["name"] == run.run_id
    assert json.loads(execution["input"]) == {
        "run": {
            "run_id": run.run_id,
            "tenant_id": "tenant-a",
            "workflow_id": "greeter",
            "workflow_version": 1,
            "user": "ada",
        },
        "inputs": {"name": "Ada", "times": 1},
    }
    assert run.inputs == {"name": "Ada", "times": 1}


def test_given_a_run_that_outlasts_the_wait_when_blocking_then_it_answers_not_finished(world):
    started = world.service.start("tenant-a", "greeter", {"name": "Ada"})

    assert not started.finished
    assert started.run.status is RunStatus.RUNNING
    assert sum(world.clock.sleeps) == pytest.approx(world.settings.blocking_wait_seconds)
    assert max(world.clock.sleeps) <= 1.0


def test_given_a_run_settled_during_the_wait_when_blocking_then_it_answers_the_finished_run(
    world,
):
    def settle_the_running_run() -> None:
        (run,) = world.runs.list("tenant-a")
        world.service.settle(settle_event(run.run_id, "succeeded", outputs={"greeting": "hi"}))

    world.clock.on_sleep = settle_the_running_run

    started = world.service.start("tenant-a", "greeter", {"name": "Ada"})

    assert started.finished
    assert started.snapshot.run.status is RunStatus.SUCCEEDED
    assert started.snapshot.run.outputs == {"greeting": "hi"}
    assert len(world.clock.sleeps) == 1


def test_given_inputs_missing_a_required_field_when_started_then_invalid_and_no_run(world):
    with pytest.raises(InvalidInput) as raised:
        world.service.start("tenant-a", "greeter", {"times": 2})

    assert raised.value.field == "inputs.name"
    assert world.runs.list("tenant-a") == []


def test_given_another_tenants_workflow_when_started_then_not_found(world):
    with pytest.raises(NotFound):
        world.service.start("tenant-b", "greeter", {"name": "Ada"})


def test_given_step_functions_refuses_the_execution_then_the_run_is_settled_failed(world):
    record = world.workflows.get("tenant-a", "greeter")
    world.sfn.delete_state_machine(stateMachineArn=record.state_machine_arn)

    with pytest.raises(RunStartFailed):
        world.service.start("tenant-a", "greeter", {"name": "Ada"})

    (run,) = world.runs.list("tenant-a")
    assert run.status is RunStatus.FAILED
    assert run.error["type"] == "StateMachineDoesNotExist"


def test_given_a_stopped_execution_when_the_run_is_read_then_it_is_settled_stopped(world):
    run = world.service.start("tenant-a", "greeter", {"name": "Ada"}).run
    world.sfn.stop_execution(executionArn=run.execution_arn)

    snapshot = world.service.get("tenant-a", run.run_id)

    assert snapshot.run.status is RunStatus.STOPPED
    assert snapshot.run.finished_at is not None
    assert world.runs.get("tenant-a", run.run_id).status is RunStatus.STOPPED


def test_given_a_running_execution_when_the_run_is_read_then_it_stays_running(world):
    run = world.service.start("tenant-a", "greeter", {"name": "Ada"}).run

    assert world.service.get("tenant-a", run.run_id).run.status is RunStatus.RUNNING


def test_given_node_executions_when_read_then_current_nodes_and_progress_follow_them(world):
    run = world.service.start("tenant-a", "greeter", {"name": "Ada"}).run
    first_try = world.nodes.start(node_execution(run.run_id, "greet", 1))
    world.nodes.finish(first_try.failed(NodeFailure(type="Boom", message="x"), datetime.now(UTC)))
    world.nodes.start(node_execution(run.run_id, "greet", 2, attempt=2))

    running = world.service.get("tenant-a", run.run_id)

    assert [(node.node_id, node.attempt) for node in running.current_nodes] == [("greet", 2)]
    assert (running.progress.finished_nodes, running.progress.total_nodes) == (0, 1)

    world.service.settle(settle_event(run.run_id, "failed", error={"node_id": "greet"}))
    finished = world.service.get("tenant-a", run.run_id)

    assert finished.current_nodes == []


def test_given_a_run_when_its_nodes_are_listed_then_in_start_order_and_only_for_its_tenant(
    world,
):
    run = world.service.start("tenant-a", "greeter", {"name": "Ada"}).run
    world.nodes.start(node_execution(run.run_id, "greet", 2))
    world.nodes.start(node_execution(run.run_id, "normalize", 1))

    listed = world.service.list_nodes("tenant-a", run.run_id)

    assert [node.node_id for node in listed] == ["normalize", "greet"]
    with pytest.raises(NotFound):
        world.service.list_nodes("tenant-b", run.run_id)
    with pytest.raises(NotFound):
        world.service.get("tenant-b", run.run_id)


def test_given_a_settled_run_when_settled_again_then_the_first_result_stands(world):
    run = world.service.start("tenant-a", "greeter", {"name": "Ada"}).run
    first = world.service.settle(settle_event(run.run_id, "succeeded", outputs={"greeting": "hi"}))

    again = world.service.settle(
        settle_event(
            run.run_id,
            "failed",
            error={"node_id": "greet", "error": "States.Timeout", "cause": "late"},
        )
    )

    assert first == again == {"run_id": run.run_id, "status": "succeeded"}
    stored = world.runs.get("tenant-a", run.run_id)
    assert stored.outputs == {"greeting": "hi"}
    assert stored.error is None


def test_given_a_lambda_failure_when_settled_then_the_error_keeps_the_message_not_the_trace(
    world,
):
    run = world.service.start("tenant-a", "greeter", {"name": "Ada"}).run
    cause = json.dumps(
        {"errorType": "ValueError", "errorMessage": "cannot handle 7", "stackTrace": ["  File x"]}
    )

    world.service.settle(
        settle_event(
            run.run_id,
            "failed",
            error={"node_id": "explode", "error": "ValueError", "cause": cause},
        )
    )

    assert world.runs.get("tenant-a", run.run_id).error == {
        "node_id": "explode",
        "type": "ValueError",
        "message": "cannot handle 7",
    }
