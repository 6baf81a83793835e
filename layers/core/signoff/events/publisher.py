"""Publishing envelopes to the project's EventBridge bus.

Source `signoff`, DetailType = the event type, Detail = the envelope JSON. PutEvents takes at most
ten entries per call and may reject some of them (throttling, internal errors) while accepting the
rest: the rejected ones are sent again, alone, with jittered exponential backoff, a bounded number
of times. What still fails is logged and given up: the event log in DynamoDB already holds every
event, so a subscriber that misses one can read it there.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import boto3
from aws_lambda_powertools import Logger

from signoff.events.envelope import Event
from signoff.store import parse_iso

logger = Logger(child=True)

EVENT_SOURCE = "signoff"
MAX_BATCH = 10  # PutEvents' limit on entries per call
MAX_REQUEST_BYTES = 256 * 1024  # PutEvents' limit on a request's total entry size
_TIME_SIZE = 14  # what EventBridge counts for an entry's Time
DEFAULT_MAX_ATTEMPTS = 4


class EventPublisher(Protocol):
    def publish(self, events: Sequence[Event]) -> list[Event]:
        """Publish the events; return those that could not be published in the end."""
        ...


class EventBridgePublisher:
    def __init__(
        self,
        bus_name: str,
        client: Any = None,
        *,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        base_delay_seconds: float = 0.05,
        max_delay_seconds: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._bus = bus_name
        self._client = client or boto3.client("events")
        self._max_attempts = max(1, max_attempts)
        self._base_delay = base_delay_seconds
        self._max_delay = max_delay_seconds
        self._sleep = sleep

    def publish(self, events: Sequence[Event]) -> list[Event]:
        undelivered: list[Event] = []
        for batch in _batches(events, self.entry):
            undelivered.extend(self._publish_batch(batch))
        if undelivered:
            logger.warning(
                "events not published to EventBridge",
                extra={"bus": self._bus, "event_ids": [event.id for event in undelivered]},
            )
        return undelivered

    def _publish_batch(self, batch: list[Event]) -> list[Event]:
        pending = batch
        for attempt in range(self._max_attempts):
            if attempt:
                self._sleep(self._delay(attempt))
            try:
                response = self._client.put_events(Entries=[self.entry(e) for e in pending])
            except Exception:  # a whole-call failure is retried like a rejected entry
                logger.exception("PutEvents failed", extra={"bus": self._bus})
                continue
            if not response.get("FailedEntryCount"):
                return []
            # Results are positional: the i-th result belongs to the i-th entry.
            pending = [
                event
                for event, result in zip(pending, response.get("Entries", []), strict=False)
                if result.get("ErrorCode") or not result.get("EventId")
            ]
            if not pending:
                return []
        return pending

    def _delay(self, attempt: int) -> float:
        ceiling = min(self._max_delay, self._base_delay * 2 ** (attempt - 1))
        return random.uniform(ceiling / 2, ceiling)

    def entry(self, event: Event) -> dict[str, Any]:
        return {
            "Source": EVENT_SOURCE,
            "DetailType": event.type,
            "Detail": event.model_dump_json(),
            "EventBusName": self._bus,
            "Time": parse_iso(event.time),
        }


def _entry_size(entry: dict[str, Any]) -> int:
    """An entry's size as EventBridge counts it against the 256 KiB request limit."""
    return (
        _TIME_SIZE
        + len(entry["Source"].encode())
        + len(entry["DetailType"].encode())
        + len(entry["Detail"].encode())
    )


def _batches(
    events: Sequence[Event], entry: Callable[[Event], dict[str, Any]]
) -> list[list[Event]]:
    """Consecutive groups of at most ten events whose entries fit in one PutEvents request."""
    batches: list[list[Event]] = []
    current: list[Event] = []
    size = 0
    for event in events:
        entry_size = _entry_size(entry(event))
        if current and (len(current) == MAX_BATCH or size + entry_size > MAX_REQUEST_BYTES):
            batches.append(current)
            current, size = [], 0
        current.append(event)
        size += entry_size
    if current:
        batches.append(current)
    return batches
