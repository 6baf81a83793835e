"""The Runs table counting a run's pending waits (several at once: parallel items and branches),
against moto: paused while any is pending, running again only when the last one closes, also when
decisions and new waits race."""

from __future__ import annotations

import random
import threading
from typing import Any

import pytest

from signoff.store.runs import DynamoRunRepository, RunRecord, RunStatus

pytestmark = pytest.mark.integration

ARN = "arn:aws:states:us-east-1:123456789012:execution:signoff-dev-abc-lines:run-1"


@pytest.fixture
def runs(dynamodb: Any, tables: dict[str, str]) -> DynamoRunRepository:
    return DynamoRunRepository(tables["RunsTable"], client=dynamodb)


def running(runs: DynamoRunRepository) -> None:
    runs.create(
        RunRecord(
            tenant_id="tenant-a",
            run_id="run-1",
            workflow_id="lines",
            workflow_version=1,
            inputs={},
            created_at="2024-05-01T12:00:00.000Z",
        )
    )
    runs.mark_running("tenant-a", "run-1", ARN)


def test_given_two_waits_then_the_run_resumes_only_when_the_second_closes(runs):
    running(runs)

    first = runs.open_wait("tenant-a", "run-1", "rv-a")
    second = runs.open_wait("tenant-a", "run-1", "rv-b")
    assert (first.status, first.pending_reviews) == (RunStatus.PAUSED, {"rv-a"})
    assert second.pending_reviews == {"rv-a", "rv-b"}

    one = runs.close_wait("tenant-a", "run-1", "rv-b")
    assert (one.resumed, one.run.status, one.run.pending_reviews) == (
        False,
        RunStatus.PAUSED,
        {"rv-a"},
    )
    last = runs.close_wait("tenant-a", "run-1", "rv-a")
    assert (last.resumed, last.run.status, last.run.pending_reviews) == (
        True,
        RunStatus.RUNNING,
        frozenset(),
    )
    # Closing a closed wait again changes nothing.
    again = runs.close_wait("tenant-a", "run-1", "rv-a")
    assert (again.resumed, again.run.status) == (False, RunStatus.RUNNING)


def test_given_a_wait_asked_twice_then_it_counts_once(runs):
    running(runs)
    runs.open_wait("tenant-a", "run-1", "rv-a")
    runs.open_wait("tenant-a", "run-1", "rv-a")

    closed = runs.close_wait("tenant-a", "run-1", "rv-a")

    assert (closed.resumed, closed.run.status) == (True, RunStatus.RUNNING)


def test_given_a_terminal_run_then_a_wait_neither_pauses_nor_resumes_it(runs):
    running(runs)
    runs.open_wait("tenant-a", "run-1", "rv-a")
    runs.settle("tenant-a", "run-1", RunStatus.STOPPED)

    assert runs.open_wait("tenant-a", "run-1", "rv-b").status is RunStatus.STOPPED
    closed = runs.close_wait("tenant-a", "run-1", "rv-a")
    assert (closed.resumed, closed.run.status) == (False, RunStatus.STOPPED)


def test_given_decisions_and_new_waits_racing_then_paused_exactly_while_some_are_pending(runs):
    # Given a run with 6 pending waits
    running(runs)
    first = [f"rv-{index}" for index in range(6)]
    for review_id in first:
        runs.open_wait("tenant-a", "run-1", review_id)
    later = [f"rv-new-{index}" for index in range(4)]
    resumed: list[bool] = []
    barrier = threading.Barrier(len(first) + len(later))

    def close(review_id: str) -> None:
        barrier.wait()
        resumed.append(runs.close_wait("tenant-a", "run-1", review_id).resumed)

    def open_and_close(review_id: str) -> None:
        barrier.wait()
        runs.open_wait("tenant-a", "run-1", review_id)
        threading.Event().wait(random.uniform(0, 0.01))
        resumed.append(runs.close_wait("tenant-a", "run-1", review_id).resumed)

    # When all of them are decided while 4 more open and close, all at once
    threads = [threading.Thread(target=close, args=(r,)) for r in first]
    threads += [threading.Thread(target=open_and_close, args=(r,)) for r in later]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then nothing is pending, the run runs, and each resume came from a last pending wait
    run = runs.get("tenant-a", "run-1")
    assert (run.status, run.pending_reviews) == (RunStatus.RUNNING, frozenset())
    assert 1 <= sum(resumed) <= len(later) + 1
