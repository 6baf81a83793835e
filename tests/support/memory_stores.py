"""In-memory stand-ins for what the node runtime and the run lifecycle write to, for unit tests:
a run's event log (RunEventLog's append and read, numbered from 1 as appended), the node
execution records, and a clock that moves on at every reading."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from signoff.events.envelope import Event, new_event_id
from signoff.store.node_executions import NodeExecution
from signoff.store.run_events import EventLogClosed

EVENT_TIME = "2025-03-01T12:00:00.000Z"


class MemoryEventLog:
    """Keeps every event, and for each append its type and the sequence of the event it was told
    to follow (`hints`: None when it came without one); counts the reads. Appends of a type in
    `fail_types` fail as they would with DynamoDB down; a `closed` log refuses every append as
    the log of an ended run does."""

    def __init__(self, *, fail_types: tuple[str, ...] = (), closed: bool = False) -> None:
        self.events: list[Event] = []
        self.hints: list[tuple[str, int | None]] = []
        self.reads = 0
        self._fail = fail_types
        self._closed = closed

    def append(
        self, *, tenant_id, workflow_id, run_id, type, data, node_id=None, after=None
    ) -> Event:
        if self._closed:
            raise EventLogClosed("run ended")
        if type in self._fail:
            raise RuntimeError("DynamoDB is down")
        self.hints.append((type, after.sequence if after else None))
        event = Event(
            id=new_event_id(),
            type=type,
            time=EVENT_TIME,
            tenant=tenant_id,
            workflow_id=workflow_id,
            run_id=run_id,
            node_id=node_id,
            sequence=len(self.events) + 1,
            data=data,
        )
        self.events.append(event)
        return event

    def read(self, *, tenant_id, run_id, after=0, limit=200) -> list[Event]:
        self.reads += 1
        return [event for event in self.events if event.sequence > after][:limit]


class MemoryExecutions:
    """Node execution records: every start and finish kept in order."""

    def __init__(self) -> None:
        self.records: list[NodeExecution] = []

    def start(self, execution: NodeExecution) -> NodeExecution:
        self.records.append(execution)
        return execution

    def finish(self, execution: NodeExecution) -> NodeExecution:
        self.records.append(execution)
        return execution

    def list_for_run(self, tenant_id: str, run_id: str) -> list[NodeExecution]:
        return list(self.records)


def ticking_clock(start: datetime, step_ms: int = 250) -> Callable[[], datetime]:
    """A clock reading `start`, then `step_ms` later at each reading."""
    ticks = iter(range(100_000))
    return lambda: start + timedelta(milliseconds=step_ms * next(ticks))
