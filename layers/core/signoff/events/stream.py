"""Following a run's event log: every event once, in order, until the run has nothing more to say.

The log (signoff.store.run_events) numbers each run's events 1, 2, 3 ... and a number becomes
visible only after every smaller one, so a reader that asks for "everything after the last number
I saw" with a consistent read never skips an event and never sees one twice. A stream and a
reconnect (Last-Event-ID: n) are the same thing: follow from n.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from aws_lambda_powertools import Logger

from signoff.events.envelope import Event
from signoff.store.run_events import RunEventLog

logger = Logger(child=True)

PAUSED = "run.paused"
READ_LIMIT = 200
# How long a reader waits for a missing number before it takes what follows (the log's appends
# make gaps impossible; this only bounds the wait should a write be lost).
_GAP_PATIENCE_SECONDS = 5.0


def follow_run(
    log: RunEventLog,
    *,
    tenant_id: str,
    run_id: str,
    after: int = 0,
    poll_seconds: float = 0.2,
    stop_on_pause: bool = True,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    max_poll_seconds: float = 1.0,
    run_ended: Callable[[], bool] | None = None,
    ended_check_seconds: float = 5.0,
) -> Iterator[Event | None]:
    """The run's events after sequence `after`, in order; None each time a poll found nothing
    (the caller sends its keep-alive from those).

    Ends after a terminal run.* event, and after run.paused when `stop_on_pause` and nothing
    followed it (a run that paused and went on, replayed later, is followed past that pause).
    Idle polls back off from `poll_seconds` to `max_poll_seconds`. `run_ended`, when given, is
    asked every `ended_check_seconds` while idle: when it answers True at two checks in a row with
    nothing new in between (the run ended by its record, and its last event never came), the
    stream ends too, so a run whose events were not all emitted does not hold a stream forever.
    """
    last = after
    interval = poll_seconds
    pause_seen = False
    gap_since: float | None = None
    next_check = clock() + ended_check_seconds
    ended_once = False
    while True:
        events = log.read(tenant_id=tenant_id, run_id=run_id, after=last, limit=READ_LIMIT)
        fresh = [event for event in events if event.sequence > last]
        ready = _contiguous(fresh, last)
        if fresh and not ready:
            gap_since = clock() if gap_since is None else gap_since
            if clock() - gap_since < _GAP_PATIENCE_SECONDS:
                yield None
                sleep(poll_seconds)
                continue
            logger.warning(
                "event log gap: going on without the missing events",
                extra={"run_id": run_id, "after": last, "next": fresh[0].sequence},
            )
            ready = fresh
        fresh = ready
        gap_since = None
        if fresh:
            interval = poll_seconds
            ended_once = False
            next_check = clock() + ended_check_seconds
            for event in fresh:
                last = event.sequence
                yield event
                if event.is_terminal:
                    return
            # A pause ends the stream only when it is the run's latest word: read once more.
            pause_seen = stop_on_pause and fresh[-1].type == PAUSED
            if pause_seen or len(fresh) < len(events) or len(events) >= READ_LIMIT:
                continue
        elif pause_seen:
            return
        if run_ended is not None and clock() >= next_check:
            next_check = clock() + ended_check_seconds
            if run_ended():
                if ended_once:
                    return
                ended_once = True
            else:
                ended_once = False
        yield None
        sleep(interval)
        interval = min(interval * 2, max(max_poll_seconds, poll_seconds))


def _contiguous(events: list[Event], last: int) -> list[Event]:
    """The events that follow `last` without a missing number in between."""
    ready: list[Event] = []
    for event in events:
        if event.sequence != last + len(ready) + 1:
            break
        ready.append(event)
    return ready
