"""The per-run event log on moto's DynamoDB: gap-free sequences, ordered reads, one ending."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from signoff.events.emitter import EventEmitter, PendingEvent
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


# ---------------------------------------------------------------- fewer requests per append


class CountingClient(OneRequestAtATime):
    """Counts the requests of each operation (and refusals, like its parent)."""

    def __init__(self, client: Any) -> None:
        super().__init__(client)
        self.calls: dict[str, int] = {}

    def __getattr__(self, name: str) -> Any:
        call = super().__getattr__(name)

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] = self.calls.get(name, 0) + 1
            return call(*args, **kwargs)

        return counted


@pytest.fixture
def counting(tables: dict[str, str]) -> CountingClient:
    return CountingClient(boto3.client("dynamodb", region_name=REGION))


@pytest.fixture
def counted_log(tables: dict[str, str], counting: CountingClient) -> DynamoRunEventLog:
    return DynamoRunEventLog(tables["RunEventsTable"], counting)


def test_given_an_empty_log_when_run_started_is_appended_then_it_is_put_without_a_read(
    counted_log, counting
):
    started = append(counted_log, type="run.started")

    assert started.sequence == 1
    assert counting.calls == {"put_item": 1}


def test_given_the_writers_last_event_then_the_next_is_put_right_after_it_without_a_read(
    counted_log, counting
):
    first = append(counted_log, type="run.started")
    second = append(counted_log, type="node.started", after=first)
    third = append(counted_log, type="node.succeeded", after=second)

    assert [first.sequence, second.sequence, third.sequence] == [1, 2, 3]
    assert counting.calls == {"put_item": 3}
    assert counted_log.read(tenant_id="tenant-a", run_id="run-1") == [first, second, third]


def test_given_an_out_of_date_hint_then_the_event_still_lands_next_with_no_gap_or_overwrite(
    counted_log, counting
):
    # Given a writer whose last event is 1 while another writer appended 2 and 3 since
    mine = append(counted_log, type="run.started")
    append(counted_log, data={"writer": "other"})
    append(counted_log, data={"writer": "other"})

    # When it appends after its own last event
    appended = append(counted_log, type="node.succeeded", after=mine)

    # Then the guessed number was refused, the log read, and the event put at 4
    assert appended.sequence == 4
    assert counting.refused == 1
    events = counted_log.read(tenant_id="tenant-a", run_id="run-1")
    assert [e.sequence for e in events] == [1, 2, 3, 4]
    assert [e.data for e in events[1:3]] == [{"writer": "other"}, {"writer": "other"}]


def test_given_a_log_that_is_not_empty_then_run_started_is_appended_after_what_is_there(
    counted_log,
):
    append(counted_log, type="node.started")

    assert append(counted_log, type="run.started").sequence == 2


def test_given_a_hint_for_another_run_then_it_is_ignored_and_the_log_read(counted_log, counting):
    other = append(counted_log, run_id="run-2", type="run.started")
    append(counted_log, type="run.started")

    appended = append(counted_log, type="node.started", after=other)

    assert appended.sequence == 2
    assert counting.refused == 0
    assert counting.calls["query"] == 1


def test_given_a_terminal_hint_then_the_log_is_closed_and_nothing_is_written(counted_log, counting):
    append(counted_log, type="run.started")
    ended = append(counted_log, type="run.failed")
    calls = dict(counting.calls)

    with pytest.raises(EventLogClosed):
        append(counted_log, type="node.succeeded", after=ended)

    assert counting.calls == calls


def test_given_a_stale_hint_before_a_terminal_event_then_the_log_is_still_closed(counted_log):
    started = append(counted_log, type="run.started")
    append(counted_log, type="run.stopped")

    with pytest.raises(EventLogClosed):
        append(counted_log, type="node.succeeded", after=started)

    assert [e.type for e in counted_log.read(tenant_id="tenant-a", run_id="run-1")] == [
        "run.started",
        "run.stopped",
    ]


def test_given_several_events_emitted_together_then_the_log_is_read_once_for_all(
    counted_log, counting
):
    append(counted_log, type="run.started")
    emitter = EventEmitter(counted_log)

    emitted = emitter.emit_all(
        [
            PendingEvent("tenant-a", "wf", "run-1", "review.requested", {"review_id": "r1"}),
            PendingEvent("tenant-a", "wf", "run-1", "run.paused", {"review_id": "r1"}),
            PendingEvent("tenant-a", "wf", "run-1", "node.started"),
        ]
    )

    assert [(e.sequence, e.type) for e in emitted] == [
        (2, "review.requested"),
        (3, "run.paused"),
        (4, "node.started"),
    ]
    assert counting.calls == {"put_item": 4, "query": 1}
    assert counted_log.read(tenant_id="tenant-a", run_id="run-1")[1:] == emitted


@pytest.mark.usefixtures("frequent_thread_switches")
def test_given_writers_racing_with_hints_then_the_log_stays_gap_free(log, client):
    # Given six writers, each appending pairs, each event after its own last one
    writers, pairs = 6, 6
    barrier = threading.Barrier(writers)
    failures: list[BaseException] = []

    def write(writer: int) -> None:
        barrier.wait()
        last = None
        try:
            for n in range(pairs):
                for half, event_type in enumerate(("node.started", "node.succeeded")):
                    data = {"writer": writer, "n": n, "half": half}
                    last = append(log, type=event_type, data=data, after=last)
        except BaseException as error:  # surfaced below
            failures.append(error)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then writers did collide (guesses were refused), and yet every event landed once, numbered
    # without a gap, each writer's in its own order
    assert failures == []
    assert client.refused > 0
    events = log.read(tenant_id="tenant-a", run_id="run-1", limit=1000)
    assert [e.sequence for e in events] == list(range(1, writers * pairs * 2 + 1))
    assert len({event.id for event in events}) == len(events)
    for writer in range(writers):
        own = [(e.data["n"], e.data["half"]) for e in events if e.data["writer"] == writer]
        assert own == [(n, half) for n in range(pairs) for half in (0, 1)]
