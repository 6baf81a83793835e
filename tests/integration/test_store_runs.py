"""The Runs table's conditional writes, against moto's DynamoDB."""

from __future__ import annotations

from typing import Any

import pytest

from signoff.errors import Conflict, NotFound
from signoff.store import utc_now_iso
from signoff.store.runs import DynamoRunRepository, RunRecord, RunStatus

pytestmark = pytest.mark.integration

EXECUTION_ARN = "arn:aws:states:us-east-1:123456789012:execution:signoff-dev-abc-hello:run-1"


@pytest.fixture
def runs(dynamodb: Any, tables: dict[str, str]) -> DynamoRunRepository:
    return DynamoRunRepository(tables["RunsTable"], client=dynamodb)


def new_run(run_id: str = "run-1", tenant_id: str = "tenant-a") -> RunRecord:
    return RunRecord(
        tenant_id=tenant_id,
        run_id=run_id,
        workflow_id="hello",
        workflow_version=1,
        inputs={"name": "Ada", "ratio": 0.25},
        user="tester",
        created_at=utc_now_iso(),
    )


def test_given_a_new_run_when_created_then_it_reads_back_pending_with_its_inputs(runs):
    runs.create(new_run())

    stored = runs.get("tenant-a", "run-1")

    assert stored.status is RunStatus.PENDING
    assert stored.inputs == {"name": "Ada", "ratio": 0.25}
    assert stored.execution_arn is None
    assert stored.outputs is None


def test_given_an_existing_run_when_created_again_then_conflict(runs):
    runs.create(new_run())

    with pytest.raises(Conflict):
        runs.create(new_run())


def test_given_a_pending_run_when_marked_running_then_it_records_its_execution(runs):
    runs.create(new_run())

    running = runs.mark_running("tenant-a", "run-1", EXECUTION_ARN)

    assert running.status is RunStatus.RUNNING
    assert running.execution_arn == EXECUTION_ARN
    assert running.started_at is not None


def test_given_a_running_run_when_settled_then_it_is_terminal_with_outputs(runs):
    runs.create(new_run())
    runs.mark_running("tenant-a", "run-1", EXECUTION_ARN)

    settled = runs.settle("tenant-a", "run-1", RunStatus.SUCCEEDED, outputs={"x": 1.5})

    assert settled.status is RunStatus.SUCCEEDED
    assert settled.outputs == {"x": 1.5}
    assert settled.finished_at is not None
    assert runs.get("tenant-a", "run-1") == settled


def test_given_a_terminal_run_when_settled_again_then_nothing_changes(runs):
    runs.create(new_run())
    first = runs.settle("tenant-a", "run-1", RunStatus.FAILED, error={"message": "boom"})

    again = runs.settle("tenant-a", "run-1", RunStatus.SUCCEEDED, outputs={"late": True})

    assert again == first
    assert runs.get("tenant-a", "run-1").status is RunStatus.FAILED
    assert runs.get("tenant-a", "run-1").outputs is None


def test_given_a_terminal_run_when_marked_running_then_it_stays_terminal_but_gets_its_arn(runs):
    # A fast execution can settle its run before the api records that it started it.
    runs.create(new_run())
    runs.settle("tenant-a", "run-1", RunStatus.SUCCEEDED, outputs={})

    after = runs.mark_running("tenant-a", "run-1", EXECUTION_ARN)

    assert after.status is RunStatus.SUCCEEDED
    assert after.execution_arn == EXECUTION_ARN


def test_given_a_running_run_when_marked_running_with_another_execution_then_conflict(runs):
    runs.create(new_run())
    runs.mark_running("tenant-a", "run-1", EXECUTION_ARN)

    with pytest.raises(Conflict):
        runs.mark_running("tenant-a", "run-1", EXECUTION_ARN + "-other")


def test_given_no_such_run_when_settled_or_marked_then_not_found(runs):
    with pytest.raises(NotFound):
        runs.settle("tenant-a", "missing", RunStatus.FAILED)
    with pytest.raises(NotFound):
        runs.mark_running("tenant-a", "missing", EXECUTION_ARN)
    with pytest.raises(NotFound):
        runs.get("tenant-a", "missing")


def test_given_a_non_terminal_status_when_settling_then_it_is_refused(runs):
    runs.create(new_run())

    with pytest.raises(ValueError):
        runs.settle("tenant-a", "run-1", RunStatus.RUNNING)


def test_given_runs_of_two_tenants_when_listing_then_each_sees_only_its_own(runs):
    runs.create(new_run("run-1", "tenant-a"))
    runs.create(new_run("run-2", "tenant-a"))
    runs.create(new_run("run-3", "tenant-b"))

    assert sorted(run.run_id for run in runs.list("tenant-a")) == ["run-1", "run-2"]
    assert [run.run_id for run in runs.list("tenant-b")] == ["run-3"]
    with pytest.raises(NotFound):
        runs.get("tenant-b", "run-1")
