"""The per-run event log on moto's DynamoDB: gap-free sequences, ordered reads, one ending."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from signoff.store.run_events import DynamoRunEventLog, EventLogClosed

pytestmark = pytest.mark.integration

REGION = "us-east-1"


class OneRequestAtATime:
    """A boto3 client whose requests moto serves one at a time, as DynamoDB serves each request
    atomically: moto in process does not lock its tables, so two threads inside one moto call
    could corrupt them. Requests still interleave freely, which is the race under test."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._lock = threading.Lock()
        self.refused = 0

    def __getattr__(self, name: str) -> Any:
        operation = getattr(self._client, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                try:
                    return operation(*args, **kwargs)
                except self._client.exceptions.ConditionalCheckFailedException:
                    self.refused += 1
                    raise

        return call


@pytest.fixture
def client(tables: dict[str, str]) -> OneRequestAtATime:
    return OneRequestAtATime(boto3.client("dynamodb", region_name=REGION))


@pytest.fixture
def log(tables: dict[str, str], client: OneRequestAtATime) -> DynamoRunEventLog:
    return DynamoRunEventLog(tables["RunEventsTable"], client)


@pytest.fixture
def frequent_thread_switches() -> Iterator[None]:
    """Threads switch far more often than usual, so appends really race."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


def append(log: DynamoRunEventLog, run_id: str = "run-1", **changes: Any):
    fields: dict[str, Any] = {
        "tenant_id": "tenant-a",
        "workflow_id": "wf",
        "run_id": run_id,
        "type": "node.started",
        "data": {},
        **changes,
    }
    return log.append(**fields)


def test_given_appends_then_sequences_count_from_one_and_read_returns_them_in_order(log):
    appended = [append(log, data={"n": n}, node_id=f"node-{n}") for n in range(5)]

    events = log.read(tenant_id="tenant-a", run_id="run-1")

    assert [event.sequence for event in appended] == [1, 2, 3, 4, 5]
    assert events == appended
    assert [event.data for event in events] == [{"n": n} for n in range(5)]


def test_given_a_log_when_read_after_a_sequence_with_a_limit_then_only_the_next_ones(log):
    for n in range(6):
        append(log, data={"n": n})

    events = log.read(tenant_id="tenant-a", run_id="run-1", after=2, limit=3)

    assert [event.sequence for event in events] == [3, 4, 5]


def test_given_two_runs_and_two_tenants_then_each_log_is_separate(log):
    append(log, run_id="run-1")
    append(log, run_id="run-2")
    append(log, run_id="run-1", tenant_id="tenant-b")

    assert [e.sequence for e in log.read(tenant_id="tenant-a", run_id="run-1")] == [1]
    assert [e.sequence for e in log.read(tenant_id="tenant-a", run_id="run-2")] == [1]
    assert [e.sequence for e in log.read(tenant_id="tenant-b", run_id="run-1")] == [1]


@pytest.mark.usefixtures("frequent_thread_switches")
def test_given_concurrent_writers_then_no_sequence_is_skipped_or_taken_twice(log, client):
    # Given eight threads appending to one run at once
    writers, per_writer = 8, 10
    barrier = threading.Barrier(writers)
    failures: list[BaseException] = []

    def write(writer: int) -> None:
        barrier.wait()
        try:
            for n in range(per_writer):
                append(log, data={"writer": writer, "n": n})
        except BaseException as error:  # surfaced below
            failures.append(error)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then writers did collide (some puts were refused) and yet every append landed once,
    # numbered 1..80 without a gap
    assert failures == []
    assert client.refused > 0
    events = log.read(tenant_id="tenant-a", run_id="run-1", limit=1000)
    assert [event.sequence for event in events] == list(range(1, writers * per_writer + 1))
    written = sorted((e.data["writer"], e.data["n"]) for e in events)
    assert written == [(w, n) for w in range(writers) for n in range(per_writer)]
    assert len({event.id for event in events}) == len(events)
    # and each writer's own events kept their order
    for writer in range(writers):
        own = [e.data["n"] for e in events if e.data["writer"] == writer]
        assert own == list(range(per_writer))


def test_given_a_terminal_event_then_the_log_takes_nothing_more(log):
    append(log, type="run.started")
    append(log, type="run.failed")

    with pytest.raises(EventLogClosed):
        append(log, type="run.stopped")
    with pytest.raises(EventLogClosed):
        append(log, type="node.succeeded")

    assert [e.type for e in log.read(tenant_id="tenant-a", run_id="run-1")] == [
        "run.started",
        "run.failed",
    ]


@pytest.mark.usefixtures("frequent_thread_switches")
def test_given_two_settlers_racing_then_exactly_one_terminal_event(log):
    append(log, type="run.started")
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def settle(event_type: str) -> None:
        barrier.wait()
        try:
            append(log, type=event_type)
            outcomes.append("logged")
        except EventLogClosed:
            outcomes.append("closed")

    threads = [
        threading.Thread(target=settle, args=(t,))
        for t in ("run.failed", "run.stopped", "run.failed", "run.succeeded")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["closed", "closed", "closed", "logged"]
    events = log.read(tenant_id="tenant-a", run_id="run-1")
    assert [e.sequence for e in events] == [1, 2]
    assert events[1].is_terminal
