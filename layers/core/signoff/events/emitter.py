"""Emitting lifecycle events: append to the run's event log, then publish to the bus.

The log is the source of truth (streams and re-attach read it); the bus is how other systems hear
of a run (rules, webhooks). Emitting is a side effect of work that has already happened: a failure
to emit is logged and never fails the caller, and an emitter built without a table (old tests,
functions that emit nothing) does nothing at all.

Fewer requests per event: each event of one call goes right after the one before (the log is read
once at most) and they go to the bus together (one PutEvents per ten); a writer that knows the
last event it appended to the run passes it as `after`, so the log need not be read at all
(signoff.store.run_events).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools import Logger

from signoff.events.envelope import Event
from signoff.events.publisher import EventBridgePublisher, EventPublisher
from signoff.settings import Settings
from signoff.store.run_events import DynamoRunEventLog, EventLogClosed, RunEventLog

logger = Logger(child=True)


@dataclass(frozen=True)
class PendingEvent:
    """An event to emit: everything but what the log assigns (id, time, sequence)."""

    tenant_id: str
    workflow_id: str
    run_id: str
    type: str
    data: dict[str, Any] = field(default_factory=dict)
    node_id: str | None = None


class EventEmitter:
    def __init__(self, log: RunEventLog | None, publisher: EventPublisher | None = None) -> None:
        self._log = log
        self._publisher = publisher

    @classmethod
    def disabled(cls) -> EventEmitter:
        """An emitter that emits nothing (no event table configured)."""
        return cls(None, None)

    @property
    def enabled(self) -> bool:
        return self._log is not None

    @property
    def log(self) -> RunEventLog | None:
        return self._log

    def emit(
        self,
        *,
        tenant_id: str,
        workflow_id: str,
        run_id: str,
        type: str,
        data: dict[str, Any],
        node_id: str | None = None,
        after: Event | None = None,
    ) -> Event | None:
        """Append one event to the run's log and publish it; None when it could not be logged.

        `after`: the last event this writer emitted for the run, when it knows it (a hint: the
        log then tries the next number without reading first)."""
        emitted = self.emit_all(
            [PendingEvent(tenant_id, workflow_id, run_id, type, data, node_id)], after=after
        )
        return emitted[0] if emitted else None

    def emit_all(
        self, pending: Sequence[PendingEvent], *, after: Event | None = None
    ) -> list[Event]:
        """Append the events in order, then publish those logged in one go (batched PutEvents).

        Each event is appended right after the last one logged for its run, or after `after`.
        Returns the events that were logged. An event that cannot be logged is not published
        either (subscribers never hear of an event the log lacks) and the next ones still are.
        """
        if self._log is None or not pending:
            return []
        logged: list[Event] = []
        for item in pending:
            event = self._append(self._log, item, _last_of_run(logged, item) or after)
            if event is not None:
                logged.append(event)
        if logged and self._publisher is not None:
            try:
                self._publisher.publish(logged)
            except Exception:  # the log holds the events; the bus is best effort
                logger.exception(
                    "events not published", extra={"event_ids": [event.id for event in logged]}
                )
        return logged

    @staticmethod
    def _append(log: RunEventLog, item: PendingEvent, after: Event | None) -> Event | None:
        try:
            return log.append(
                tenant_id=item.tenant_id,
                workflow_id=item.workflow_id,
                run_id=item.run_id,
                type=item.type,
                data=item.data,
                node_id=item.node_id,
                after=after,
            )
        except EventLogClosed as closed:
            # Another path ended the run first (or this node outlived a stop): its terminal
            # event stands.
            logger.info(str(closed), extra={"event_type": item.type, "run_id": item.run_id})
        except Exception:  # emitting must never fail the caller's own work
            logger.exception(
                "event not logged",
                extra={"event_type": item.type, "run_id": item.run_id, "node_id": item.node_id},
            )
        return None


def _last_of_run(logged: list[Event], item: PendingEvent) -> Event | None:
    """The last event already logged for the item's run in this call."""
    for event in reversed(logged):
        if (event.tenant, event.run_id) == (item.tenant_id, item.run_id):
            return event
    return None


def emitter_from_settings(
    settings: Settings, *, dynamodb: Any = None, events: Any = None
) -> EventEmitter:
    """The deployment's emitter; a disabled one when the function has no event table."""
    if not settings.run_events_table:
        return EventEmitter.disabled()
    log = DynamoRunEventLog(settings.run_events_table, client=dynamodb)
    publisher = (
        EventBridgePublisher(settings.event_bus_name, client=events)
        if settings.event_bus_name
        else None
    )
    return EventEmitter(log, publisher)
