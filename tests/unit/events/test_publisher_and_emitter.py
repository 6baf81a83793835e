"""Publishing to EventBridge (batches of ten, rejected entries retried) and emitting (log first,
then the bus; never failing the caller)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from signoff.events.emitter import EventEmitter, PendingEvent, emitter_from_settings
from signoff.events.envelope import Event, new_event_id
from signoff.events.publisher import EVENT_SOURCE, EventBridgePublisher
from signoff.settings import Settings
from tests.support.memory_stores import MemoryEventLog


def event(sequence: int, **changes: Any) -> Event:
    fields: dict[str, Any] = {
        "id": new_event_id(),
        "type": "node.started",
        "time": "2025-01-02T03:04:05.678Z",
        "tenant": "tenant-a",
        "workflow_id": "wf",
        "run_id": "run-1",
        "sequence": sequence,
        "data": {"n": sequence},
        **changes,
    }
    return Event(**fields)


class FakeEventBridge:
    """put_events that rejects the entries `reject` picks (by Detail), `times` times each."""

    def __init__(self, reject=lambda detail: False, times: int = 1, raise_first: int = 0) -> None:
        self.calls: list[list[dict[str, Any]]] = []
        self._reject = reject
        self._left: dict[str, int] = {}
        self._times = times
        self._raise_first = raise_first

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.calls.append(Entries)
        if self._raise_first:
            self._raise_first -= 1
            raise ConnectionError("the endpoint went away")
        results = []
        for entry in Entries:
            detail = json.loads(entry["Detail"])
            left = self._left.setdefault(detail["id"], self._times)
            if self._reject(detail) and left > 0:
                self._left[detail["id"]] = left - 1
                results.append({"ErrorCode": "ThrottlingException", "ErrorMessage": "slow down"})
            else:
                results.append({"EventId": f"eb-{detail['sequence']}"})
        return {"FailedEntryCount": sum("ErrorCode" in r for r in results), "Entries": results}


def publisher(client: Any, **options: Any) -> tuple[EventBridgePublisher, list[float]]:
    delays: list[float] = []
    return EventBridgePublisher("bus", client, sleep=delays.append, **options), delays


def test_given_25_events_then_three_put_events_calls_of_at_most_ten_entries():
    client = FakeEventBridge()
    bridge, delays = publisher(client)

    undelivered = bridge.publish([event(n) for n in range(1, 26)])

    assert undelivered == []
    assert [len(call) for call in client.calls] == [10, 10, 5]
    assert delays == []
    entry = client.calls[0][0]
    assert entry["Source"] == EVENT_SOURCE == "signoff"
    assert entry["DetailType"] == "node.started"
    assert entry["EventBusName"] == "bus"
    assert Event.model_validate_json(entry["Detail"]).sequence == 1


def test_given_some_entries_rejected_then_only_those_are_sent_again_after_a_backoff():
    # Given a bus rejecting events 3 and 7 once
    client = FakeEventBridge(reject=lambda detail: detail["sequence"] in (3, 7))
    bridge, delays = publisher(client)

    undelivered = bridge.publish([event(n) for n in range(1, 11)])

    # Then the second call carries exactly the two rejected entries
    assert undelivered == []
    assert [len(call) for call in client.calls] == [10, 2]
    assert [json.loads(e["Detail"])["sequence"] for e in client.calls[1]] == [3, 7]
    assert len(delays) == 1 and delays[0] > 0


def test_given_an_entry_always_rejected_then_attempts_are_bounded_and_it_is_reported():
    client = FakeEventBridge(reject=lambda detail: detail["sequence"] == 2, times=100)
    bridge, delays = publisher(client, max_attempts=4)

    undelivered = bridge.publish([event(1), event(2), event(3)])

    assert [e.sequence for e in undelivered] == [2]
    assert [len(call) for call in client.calls] == [3, 1, 1, 1]
    # Backoff grows (jittered, capped)
    assert len(delays) == 3
    assert delays[2] > delays[0] / 2


def test_given_a_call_that_raises_then_the_batch_is_sent_again():
    client = FakeEventBridge(raise_first=1)
    bridge, _ = publisher(client)

    assert bridge.publish([event(1), event(2)]) == []
    assert [len(call) for call in client.calls] == [2, 2]


def test_given_large_events_then_batches_also_stay_under_the_request_size_limit():
    client = FakeEventBridge()
    bridge, _ = publisher(client)
    big = "x" * (100 * 1024)

    bridge.publish([event(n, data={"blob": big}) for n in range(1, 6)])

    # Two ~100 KiB entries fit in a 256 KiB request, three do not.
    assert [len(call) for call in client.calls] == [2, 2, 1]


class RecordingPublisher:
    def __init__(self, fail: bool = False) -> None:
        self.batches: list[list[Event]] = []
        self._fail = fail

    def publish(self, events):
        if self._fail:
            raise RuntimeError("EventBridge is down")
        self.batches.append(list(events))
        return []


def pending(event_type: str) -> PendingEvent:
    return PendingEvent("tenant-a", "wf", "run-1", event_type, {"x": 1})


def test_given_an_emitter_then_events_are_logged_then_published_together():
    log, bus = MemoryEventLog(), RecordingPublisher()
    emitter = EventEmitter(log, bus)

    emitted = emitter.emit_all([pending("review.approved"), pending("run.resumed")])

    assert [e.sequence for e in emitted] == [1, 2]
    assert bus.batches == [emitted]


def test_given_the_log_failing_then_emit_answers_none_publishes_nothing_and_does_not_raise():
    log, bus = MemoryEventLog(fail_types=("run.started",)), RecordingPublisher()
    emitter = EventEmitter(log, bus)

    assert (
        emitter.emit(tenant_id="t", workflow_id="w", run_id="r", type="run.started", data={})
        is None
    )
    assert bus.batches == []


def test_given_the_bus_failing_then_the_event_is_still_logged_and_nothing_raises():
    log = MemoryEventLog()
    emitter = EventEmitter(log, RecordingPublisher(fail=True))

    emitted = emitter.emit(tenant_id="t", workflow_id="w", run_id="r", type="run.started", data={})

    assert emitted is not None and log.events == [emitted]


def test_given_a_closed_log_then_emit_is_a_quiet_none():
    emitter = EventEmitter(MemoryEventLog(closed=True), RecordingPublisher())
    assert (
        emitter.emit(tenant_id="t", workflow_id="w", run_id="r", type="run.failed", data={}) is None
    )


def test_given_no_event_table_then_the_emitter_is_disabled():
    emitter = emitter_from_settings(Settings(run_events_table=None))

    assert not emitter.enabled
    assert (
        emitter.emit(tenant_id="t", workflow_id="w", run_id="r", type="run.started", data={})
        is None
    )


@pytest.mark.parametrize("bus", [None, "signoff-dev"])
def test_given_a_table_then_the_emitter_logs_and_publishes_when_a_bus_is_set(bus):
    emitter = emitter_from_settings(
        Settings(run_events_table="events", event_bus_name=bus), dynamodb=object(), events=object()
    )

    assert emitter.enabled
    assert (emitter._publisher is not None) == (bus is not None)


def test_given_several_events_of_a_run_then_each_is_appended_after_the_one_before():
    log, bus = MemoryEventLog(), RecordingPublisher()
    emitter = EventEmitter(log, bus)

    emitted = emitter.emit_all([pending("review.approved"), pending("run.resumed")])

    assert log.hints == [("review.approved", None), ("run.resumed", 1)]
    assert bus.batches == [emitted]


def test_given_the_writers_last_event_then_the_emitter_hands_it_to_the_log():
    log = MemoryEventLog()
    emitter = EventEmitter(log, RecordingPublisher())
    started = emitter.emit(
        tenant_id="tenant-a", workflow_id="wf", run_id="run-1", type="node.started", data={}
    )

    emitter.emit(
        tenant_id="tenant-a",
        workflow_id="wf",
        run_id="run-1",
        type="node.succeeded",
        data={},
        after=started,
    )

    assert log.hints == [("node.started", None), ("node.succeeded", 1)]


def test_given_events_of_two_runs_then_each_follows_the_last_of_its_own_run():
    log = MemoryEventLog()
    emitter = EventEmitter(log, RecordingPublisher())
    other = PendingEvent("tenant-a", "wf", "run-2", "run.stopped", {})

    emitter.emit_all([pending("review.approved"), other, pending("run.resumed")])

    assert log.hints == [("review.approved", None), ("run.stopped", None), ("run.resumed", 1)]


def test_given_an_event_the_log_refuses_then_the_next_follows_the_last_one_logged():
    log, bus = MemoryEventLog(fail_types=("run.resumed",)), RecordingPublisher()
    emitter = EventEmitter(log, bus)

    emitted = emitter.emit_all(
        [pending("review.approved"), pending("run.resumed"), pending("node.started")]
    )

    # The one event the log cannot take is lost; the others are logged and published
    assert [e.type for e in emitted] == ["review.approved", "node.started"]
    assert log.hints[-1] == ("node.started", 1)
    assert bus.batches == [emitted]
