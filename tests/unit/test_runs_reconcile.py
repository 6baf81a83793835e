"""The reconciler's decisions, on in-memory runs: which status a run gets for each way its
execution ended, how the run is found, and when it is left alone."""

from __future__ import annotations

import json
from typing import Any

import pytest

from signoff.errors import InvalidInput
from signoff.runs.reconcile import ExecutionReconciler
from signoff.store.runs import RunRecord, RunStatus

ARN = "arn:aws:states:us-east-1:123456789012:execution:signoff-dev-abc-wf:run-1"
MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:signoff-dev-abc-wf"


class Runs:
    def __init__(self, *records: RunRecord) -> None:
        self.records = {(r.tenant_id, r.run_id): r for r in records}
        self.settles: list[tuple[str, dict[str, Any] | None]] = []
        self.settled_meanwhile: RunStatus | None = None

    def find(self, tenant_id: str, run_id: str) -> RunRecord | None:
        return self.records.get((tenant_id, run_id))

    def find_by_execution_arn(self, execution_arn: str) -> RunRecord | None:
        return next((r for r in self.records.values() if r.execution_arn == execution_arn), None)

    def settle_once(self, tenant_id, run_id, status, outputs=None, error=None, usage=None):
        record = self.records[(tenant_id, run_id)]
        if self.settled_meanwhile is not None:  # another path settled it first
            record = record.model_copy(update={"status": self.settled_meanwhile})
            self.records[(tenant_id, run_id)] = record
            return record, False
        self.settles.append((status.value, error))
        record = record.model_copy(
            update={"status": status, "error": error, "finished_at": "2024-01-01T00:00:01.000Z"}
        )
        self.records[(tenant_id, run_id)] = record
        return record, True


class Reviews:
    def __init__(self) -> None:
        self.cancelled: list[tuple[str, str]] = []

    def cancel_open(self, tenant_id: str, run_id: str) -> list[Any]:
        self.cancelled.append((tenant_id, run_id))
        return []


class Announcer:
    def __init__(self) -> None:
        self.finished: list[RunRecord] = []

    def run_finished(self, run: RunRecord) -> None:
        self.finished.append(run)


def run(status: RunStatus = RunStatus.PAUSED, execution_arn: str | None = ARN) -> RunRecord:
    return RunRecord(
        tenant_id="t1",
        run_id="run-1",
        workflow_id="wf",
        workflow_version=1,
        status=status,
        inputs={},
        execution_arn=execution_arn,
        created_at="2024-01-01T00:00:00.000Z",
    )


def detail(status: str, *, error=None, cause=None, with_input: bool = True) -> dict[str, Any]:
    return {
        "executionArn": ARN,
        "stateMachineArn": MACHINE,
        "name": "run-1",
        "status": status,
        "startDate": 1,
        "stopDate": 2,
        "input": json.dumps({"run": {"tenant_id": "t1", "run_id": "run-1"}})
        if with_input
        else None,
        "output": None,
        "error": error,
        "cause": cause,
    }


def reconciler(runs: Runs) -> tuple[ExecutionReconciler, Reviews, Announcer]:
    reviews, announcer = Reviews(), Announcer()
    return ExecutionReconciler(runs, reviews, announcer), reviews, announcer


@pytest.mark.parametrize(
    ("status", "error", "cause", "expected"),
    [
        ("TIMED_OUT", None, None, ("failed", "States.Timeout")),
        ("ABORTED", None, None, ("stopped", "ExecutionAborted")),
        ("ABORTED", "Operator", "by hand", ("stopped", "Operator")),
        ("FAILED", "States.Runtime", "bad state", ("failed", "States.Runtime")),
    ],
)
def test_given_an_ended_execution_then_its_open_run_is_settled_accordingly(
    status, error, cause, expected
):
    runs = Runs(run())
    service, reviews, announcer = reconciler(runs)

    outcome = service.reconcile(detail(status, error=error, cause=cause))

    assert (outcome.action, outcome.status) == ("settled", expected[0])
    [(settled_status, settled_error)] = runs.settles
    assert (settled_status, settled_error["type"]) == expected
    assert reviews.cancelled == [("t1", "run-1")]
    assert [r.status.value for r in announcer.finished] == [expected[0]]


def test_given_a_lambda_error_cause_then_the_run_keeps_its_message_not_its_stack_trace():
    runs = Runs(run())
    service, _, _ = reconciler(runs)
    cause = json.dumps({"errorType": "Boom", "errorMessage": "it broke", "stackTrace": ["x"]})

    service.reconcile(detail("FAILED", error="Boom", cause=cause))

    assert runs.settles[0][1] == {"node_id": None, "type": "Boom", "message": "it broke"}


def test_given_a_terminal_run_then_it_is_left_alone():
    runs = Runs(run(RunStatus.FAILED))
    service, reviews, announcer = reconciler(runs)

    outcome = service.reconcile(detail("FAILED", error="X"))

    assert (outcome.action, outcome.status) == ("already_ended", "failed")
    assert runs.settles == [] and reviews.cancelled == [] and announcer.finished == []


def test_given_a_settle_winning_the_race_then_nothing_more_is_done():
    runs = Runs(run(RunStatus.RUNNING))
    runs.settled_meanwhile = RunStatus.SUCCEEDED
    service, reviews, announcer = reconciler(runs)

    outcome = service.reconcile(detail("ABORTED"))

    assert (outcome.action, outcome.status) == ("already_ended", "succeeded")
    assert reviews.cancelled == [] and announcer.finished == []


def test_given_an_event_without_input_then_the_run_is_found_by_its_execution():
    runs = Runs(run())
    service, _, _ = reconciler(runs)

    assert service.reconcile(detail("TIMED_OUT", with_input=False)).action == "settled"


def test_given_an_input_naming_a_run_of_another_execution_then_it_is_not_that_run():
    runs = Runs(run(execution_arn=ARN + "-other"))
    service, _, _ = reconciler(runs)

    assert service.reconcile(detail("TIMED_OUT")).action == "unknown_run"
    assert runs.settles == []


def test_given_a_run_not_yet_marked_running_then_the_execution_named_after_it_is_its_own():
    runs = Runs(run(RunStatus.PENDING, execution_arn=None))
    service, _, _ = reconciler(runs)

    assert service.reconcile(detail("FAILED", error="X")).action == "settled"


def test_given_a_succeeded_execution_then_it_is_ignored():
    runs = Runs(run(RunStatus.RUNNING))
    service, _, _ = reconciler(runs)

    assert service.reconcile(detail("SUCCEEDED")).action == "ignored"
    assert runs.settles == []


def test_given_a_queued_eventbridge_event_then_its_detail_is_reconciled():
    runs = Runs(run())
    service, _, _ = reconciler(runs)
    body = json.dumps(
        {
            "source": "aws.states",
            "detail-type": "Step Functions Execution Status Change",
            "detail": detail("TIMED_OUT"),
        }
    )

    assert service.reconcile_message(body).action == "settled"


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        json.dumps({"source": "aws.states"}),
        json.dumps({"source": "signoff", "detail-type": "run.failed", "detail": {}}),
        json.dumps(
            {
                "source": "aws.states",
                "detail-type": "Step Functions Execution Status Change",
                "detail": {"status": "FAILED"},
            }
        ),
    ],
    ids=["not-json", "no-detail", "another-event", "incomplete-detail"],
)
def test_given_a_message_that_is_no_status_change_then_invalid_input(body):
    service, _, _ = reconciler(Runs())

    with pytest.raises(InvalidInput):
        service.reconcile_message(body)
