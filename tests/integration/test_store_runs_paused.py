"""The Runs table for human in the loop, against moto: running <-> paused, variable edits while
paused, and the newest-first listing."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from signoff.store.runs import (
    DynamoRunRepository,
    PatchChanged,
    RunNotPaused,
    RunRecord,
    RunStatus,
)

pytestmark = pytest.mark.integration

ARN = "arn:aws:states:us-east-1:123456789012:execution:signoff-dev-abc-drafter:run-1"


@pytest.fixture
def runs(dynamodb: Any, tables: dict[str, str]) -> DynamoRunRepository:
    return DynamoRunRepository(tables["RunsTable"], client=dynamodb)


def new_run(run_id: str = "run-1", *, second: int = 0, workflow_id: str = "drafter") -> RunRecord:
    return RunRecord(
        tenant_id="tenant-a",
        run_id=run_id,
        workflow_id=workflow_id,
        workflow_version=1,
        inputs={"topic": "owls"},
        created_at=f"2024-05-01T12:00:{second:02d}.000Z",
    )


def paused_run(runs: DynamoRunRepository, run_id: str = "run-1") -> RunRecord:
    runs.create(new_run(run_id))
    runs.mark_running("tenant-a", run_id, ARN)
    return runs.mark_paused("tenant-a", run_id)


def test_given_a_running_run_when_paused_and_resumed_then_it_moves_both_ways(runs):
    runs.create(new_run())
    runs.mark_running("tenant-a", "run-1", ARN)

    paused = runs.mark_paused("tenant-a", "run-1")
    paused_again = runs.mark_paused("tenant-a", "run-1")
    resumed = runs.mark_resumed("tenant-a", "run-1")

    assert (paused.status, paused_again.status, resumed.status) == (
        RunStatus.PAUSED,
        RunStatus.PAUSED,
        RunStatus.RUNNING,
    )


def test_given_a_run_waiting_before_it_was_marked_running_then_it_stays_paused_with_its_arn(runs):
    runs.create(new_run())

    runs.mark_paused("tenant-a", "run-1")
    marked = runs.mark_running("tenant-a", "run-1", ARN)

    assert marked.status is RunStatus.PAUSED
    assert marked.execution_arn == ARN


def test_given_a_terminal_run_then_neither_pause_nor_resume_reopens_it(runs):
    runs.create(new_run())
    runs.settle("tenant-a", "run-1", RunStatus.STOPPED)

    assert runs.mark_paused("tenant-a", "run-1").status is RunStatus.STOPPED
    assert runs.mark_resumed("tenant-a", "run-1").status is RunStatus.STOPPED


def test_given_a_running_run_when_resumed_then_nothing_changes(runs):
    runs.create(new_run())
    runs.mark_running("tenant-a", "run-1", ARN)

    assert runs.mark_resumed("tenant-a", "run-1").status is RunStatus.RUNNING


def test_given_a_paused_run_when_a_patch_is_staged_then_it_is_pending_with_its_edits(runs):
    run = paused_run(runs)
    edit = {"node_id": "draft", "outputs": {"text": "x"}, "by": "key_1", "at": "t1"}

    staged = runs.stage_variable_patch(run, {"draft": {"text": "x", "n": 1.5}}, [edit])

    stored = runs.get("tenant-a", "run-1")
    assert stored.pending_patch == {"draft": {"text": "x", "n": 1.5}}
    assert stored.variable_edits == [edit]
    assert stored.patch_version == staged.patch_version == 1


def test_given_a_stale_read_when_a_patch_is_staged_then_patch_changed_and_nothing_written(runs):
    stale = paused_run(runs)
    runs.stage_variable_patch(stale, {"draft": {"text": "first"}}, [])

    with pytest.raises(PatchChanged):
        runs.stage_variable_patch(stale, {"draft": {"text": "second"}}, [])

    assert runs.get("tenant-a", "run-1").pending_patch == {"draft": {"text": "first"}}


def test_given_a_run_not_paused_when_a_patch_is_staged_then_run_not_paused(runs):
    runs.create(new_run())
    running = runs.mark_running("tenant-a", "run-1", ARN)

    with pytest.raises(RunNotPaused) as refusal:
        runs.stage_variable_patch(running, {"draft": {}}, [])

    assert refusal.value.status == 409


def test_given_racing_edits_then_one_is_staged_and_the_other_told_to_read_again(runs):
    run = paused_run(runs)
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def edit(text: str) -> None:
        barrier.wait()
        try:
            runs.stage_variable_patch(run, {"draft": {"text": text}}, [])
            outcomes.append("staged")
        except PatchChanged:
            outcomes.append("changed")

    workers = [threading.Thread(target=edit, args=(text,)) for text in ("a", "b")]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert sorted(outcomes) == ["changed", "staged"]


def test_given_a_sent_patch_when_cleared_then_only_the_patch_that_was_read_is_removed(runs):
    run = paused_run(runs)
    read = runs.stage_variable_patch(run, {"draft": {"text": "sent"}}, [])
    newer = runs.stage_variable_patch(read, {"draft": {"text": "newer"}}, [])

    assert runs.clear_variable_patch(read) is False
    assert runs.get("tenant-a", "run-1").pending_patch == {"draft": {"text": "newer"}}
    assert runs.clear_variable_patch(newer) is True
    cleared = runs.get("tenant-a", "run-1")
    assert cleared.pending_patch is None
    assert cleared.patch_version == newer.patch_version + 1


def test_given_runs_then_pages_are_newest_first_and_filtered(runs):
    for second, (run_id, workflow_id) in enumerate(
        [("r1", "drafter"), ("r2", "other"), ("r3", "drafter"), ("r4", "drafter")]
    ):
        runs.create(new_run(run_id, second=second, workflow_id=workflow_id))
    runs.mark_paused("tenant-a", "r3")

    first, more = runs.page("tenant-a", offset=0, limit=2)
    second, no_more = runs.page("tenant-a", offset=2, limit=2)
    drafter, _ = runs.page("tenant-a", offset=0, limit=10, workflow_id="drafter")
    paused, _ = runs.page("tenant-a", offset=0, limit=10, status=RunStatus.PAUSED)

    assert ([run.run_id for run in first], more) == (["r4", "r3"], True)
    assert ([run.run_id for run in second], no_more) == (["r2", "r1"], False)
    assert [run.run_id for run in drafter] == ["r4", "r3", "r1"]
    assert [run.run_id for run in paused] == ["r3"]
    assert runs.page("tenant-b", offset=0, limit=10) == ([], False)
