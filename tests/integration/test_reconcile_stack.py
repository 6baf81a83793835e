"""Terminal states always arrive: runs whose execution ended without settling them are settled
from Step Functions' status changes (the whole template on moto, the reconcile function polled
from its queue).

Each test kills a run one way Step Functions can end it without the settle step: the workflow's
execution timeout, a StopExecution through the Step Functions API (not the cancel route), and a
failure outside any node (the settle function itself crashing). Runs are started as the api
starts them but without its blocking wait, whose own DescribeExecution check would settle them
first: here the record must stay open until the reconciler has run.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from signoff.events.envelope import Event
from signoff.local.event_sources import EventSources
from signoff.local.functions import FunctionRunner, InvocationResult, activate
from signoff.local.provision import StackPlan
from signoff.runs.service import run_context
from signoff.store import utc_now_iso
from signoff.store.reviews import DynamoReviewRepository
from signoff.store.run_events import DynamoRunEventLog
from signoff.store.runs import DynamoRunRepository, RunRecord
from signoff.store.workflows import DynamoWorkflowRepository
from tests.support.review_machines import wait_for
from tests.support.stack_api import StackApi
from tests.support.workflows import greeter

pytestmark = pytest.mark.integration

TENANT = "tenant-a"
REGION = "us-east-1"


def reviewed_greeter(**changes: Any) -> dict[str, Any]:
    """greeter whose greet node waits on a person's review."""
    document = greeter(**changes)
    next(node for node in document["nodes"] if node["id"] == "greet")["review"] = {}
    return document


class Stack:
    """The stack's tables and clients, and runs started as the api starts them."""

    def __init__(self, plan: StackPlan) -> None:
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        self.plan = plan
        self.sfn = boto3.client("stepfunctions", region_name=REGION)
        self.runs = DynamoRunRepository(plan.tables["RunsTable"].table_name, dynamodb)
        self.workflows = DynamoWorkflowRepository(
            plan.tables["WorkflowsTable"].table_name, dynamodb
        )
        self.reviews = DynamoReviewRepository(plan.tables["ReviewsTable"].table_name, dynamodb)
        self.log = DynamoRunEventLog(plan.tables["RunEventsTable"].table_name, dynamodb)

    def start(self, workflow_id: str, inputs: dict[str, Any]) -> RunRecord:
        workflow = self.workflows.get(TENANT, workflow_id)
        run = self.runs.create(
            RunRecord(
                tenant_id=TENANT,
                run_id=str(uuid.uuid4()),
                workflow_id=workflow_id,
                workflow_version=workflow.version,
                inputs=inputs,
                created_at=utc_now_iso(),
            )
        )
        started = self.sfn.start_execution(
            stateMachineArn=workflow.state_machine_arn,
            name=run.run_id,
            input=json.dumps({"run": run_context(run), "inputs": inputs}),
        )
        return self.runs.mark_running(TENANT, run.run_id, started["executionArn"])

    def run(self, run_id: str) -> RunRecord:
        return self.runs.get(TENANT, run_id)

    def execution_status(self, run: RunRecord) -> str:
        assert run.execution_arn is not None
        return self.sfn.describe_execution(executionArn=run.execution_arn)["status"]

    def ended(self, run: RunRecord, status: str) -> None:
        wait_for(lambda: self.execution_status(run) == status, timeout=20)

    def events(self, run_id: str) -> list[Event]:
        return self.log.read(tenant_id=TENANT, run_id=run_id)


def reconciled(event_sources: EventSources) -> list[Any]:
    """Drain the reconcile queue once the status change is in it: as on AWS, it is put on the
    bus just after the execution's status changes, not with it."""
    return wait_for(lambda: event_sources.drain("reconcile"), timeout=20)


WORKFLOWS = {
    "slow-review": lambda: reviewed_greeter(
        id="slow-review", name="slow-review", timeout_seconds=3
    ),
    "reviewed": lambda: reviewed_greeter(id="reviewed", name="reviewed"),
    "greeter": greeter,
    # A template that cannot render: the node fails at once, the state machine settles the run.
    "broken": lambda: greeter(
        id="broken",
        name="broken",
        nodes=[
            {"id": "start", "type": "start"},
            {
                "id": "greet",
                "type": "template-transform",
                "template": "{{ name | no_such_filter }}",
                "variables": [{"variable": "name", "value_selector": ["start", "name"]}],
            },
            {"id": "end", "type": "end", "outputs": []},
        ],
    ),
}


@pytest.fixture
def deployed(stack: StackPlan, request: pytest.FixtureRequest) -> Stack:
    """The stack with the one workflow the test names (indirect parametrization)."""
    api = StackApi(stack)
    status, body = api.call("POST", "/workflows", WORKFLOWS[request.param]())
    assert status == 201, body
    return Stack(stack)


class CrashingSettle(FunctionRunner):
    """The stack's functions, with the settle function dying as Lambda reports a killed runtime
    (out of memory, say): Step Functions sees an error no Catch of the state machine takes."""

    def __init__(self, plan: StackPlan) -> None:
        super().__init__(plan.functions)
        self._settle = plan.function("settle").function_name

    def invoke(self, function_name: str, event: Any) -> InvocationResult:
        if function_name == self._settle:
            return InvocationResult(
                error={
                    "errorType": "Runtime.ExitError",
                    "errorMessage": "Runtime exited with error: signal: killed",
                }
            )
        return super().invoke(function_name, event)


@pytest.fixture
def crashing_settle(stack: StackPlan) -> Iterator[None]:
    previous = activate(CrashingSettle(stack))
    try:
        yield
    finally:
        activate(previous)


@pytest.mark.parametrize("deployed", ["slow-review"], indirect=True)
def test_given_a_run_past_its_execution_timeout_then_it_is_settled_failed_with_states_timeout(
    deployed, event_sources: EventSources
):
    # Given a run waiting on a review when its workflow's timeout_seconds (3) runs out
    run = deployed.start("slow-review", {"name": "Ada"})
    wait_for(lambda: deployed.run(run.run_id).status.value == "paused")
    deployed.ended(run, "TIMED_OUT")
    assert deployed.run(run.run_id).status.value == "paused"  # nothing settled it yet

    # When the reconcile function takes the status change from its queue
    [outcome] = reconciled(event_sources)

    # Then the run failed with States.Timeout, its review is closed, its end is in the log
    assert (outcome.received, outcome.deleted) == (1, 1)
    settled = deployed.run(run.run_id)
    assert settled.status.value == "failed"
    assert settled.error is not None and settled.error["type"] == "States.Timeout"
    assert settled.finished_at is not None
    reviews = deployed.reviews.list_for_run(TENANT, run.run_id)
    assert [review.status.value for review in reviews] == ["cancelled"]
    terminal = deployed.events(run.run_id)[-1]
    assert terminal.type == "run.failed"
    assert terminal.data["error"]["type"] == "States.Timeout"


@pytest.mark.parametrize("deployed", ["reviewed"], indirect=True)
def test_given_an_execution_stopped_through_step_functions_then_the_run_is_settled_stopped(
    deployed, event_sources: EventSources
):
    # Given a run waiting on a review
    run = deployed.start("reviewed", {"name": "Ada"})
    wait_for(lambda: deployed.run(run.run_id).status.value == "paused")

    # When someone stops its execution with the Step Functions API (not the cancel route)
    deployed.sfn.stop_execution(
        executionArn=run.execution_arn, error="Operator", cause="stopped from the console"
    )
    deployed.ended(run, "ABORTED")
    reconciled(event_sources)

    # Then the run is stopped with the stop's reason, its review closed, run.stopped logged
    settled = deployed.run(run.run_id)
    assert settled.status.value == "stopped"
    assert settled.error == {
        "node_id": None,
        "type": "Operator",
        "message": "stopped from the console",
    }
    assert [r.status.value for r in deployed.reviews.list_for_run(TENANT, run.run_id)] == [
        "cancelled"
    ]
    assert deployed.events(run.run_id)[-1].type == "run.stopped"


@pytest.mark.parametrize("deployed", ["greeter"], indirect=True)
def test_given_a_failure_outside_any_node_then_the_run_is_settled_with_the_executions_error(
    deployed, event_sources: EventSources, crashing_settle
):
    # Given a run whose nodes succeed but whose settle function dies
    run = deployed.start("greeter", {"name": "Ada"})
    deployed.ended(run, "FAILED")
    assert deployed.run(run.run_id).status.value == "running"

    reconciled(event_sources)

    # Then the run failed with the execution's error and the crash's message
    settled = deployed.run(run.run_id)
    assert settled.status.value == "failed"
    assert settled.error == {
        "node_id": None,
        "type": "Runtime.ExitError",
        "message": "Runtime exited with error: signal: killed",
    }
    terminal = deployed.events(run.run_id)[-1]
    assert terminal.type == "run.failed"
    assert terminal.data["error"]["type"] == "Runtime.ExitError"


@pytest.mark.parametrize("deployed", ["broken"], indirect=True)
def test_given_a_run_its_settle_step_already_failed_then_the_reconciler_leaves_it_alone(
    deployed, event_sources: EventSources
):
    # Given a run whose node raised: the state machine settled it failed, then failed itself
    run = deployed.start("broken", {"name": "Ada"})
    deployed.ended(run, "FAILED")
    before = deployed.run(run.run_id)
    assert before.status.value == "failed"
    events_before = deployed.events(run.run_id)

    # When its status change is reconciled
    [outcome] = reconciled(event_sources)

    # Then the message is consumed and the run and its log are as the settle step left them
    assert (outcome.received, outcome.deleted, outcome.failed) == (1, 1, [])
    assert deployed.run(run.run_id) == before
    assert before.error is not None and before.error["node_id"] == "greet"
    assert deployed.events(run.run_id) == events_before


@pytest.mark.parametrize("deployed", ["greeter"], indirect=True)
def test_given_a_run_that_succeeded_then_no_status_change_reaches_the_reconciler(
    deployed, event_sources: EventSources
):
    run = deployed.start("greeter", {"name": "Ada"})
    deployed.ended(run, "SUCCEEDED")

    assert event_sources.drain("reconcile") == []
    assert deployed.run(run.run_id).status.value == "succeeded"
