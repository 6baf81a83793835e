"""A run's event stream as the bytes of Dify's Server-Sent Events: what the streaming routes send.

One envelope becomes its Dify events, written together as one chunk whose frames all carry
`id: <sequence>`, so a client that reconnects with the last id it saw gets exactly what it missed.
While nothing happens a ping goes out every `ping_seconds`. The stream ends after the run's end
(workflow_finished), after a pause (workflow_paused, unless told to go on) or after an `error`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from aws_lambda_powertools import Logger

from signoff.events.dify_sse import PING_FRAME, dify_error_event, dify_stream_events, sse_frame
from signoff.events.envelope import Event, new_event_id
from signoff.events.stream import PAUSED, READ_LIMIT, follow_run
from signoff.store import parse_iso
from signoff.store.run_events import RunEventLog
from signoff.store.runs import RunRecord, RunStatus

logger = Logger(child=True)

PING_SECONDS = 10.0

# A run record's end, as the lifecycle event that would have announced it.
_EVENT_OF_STATUS: dict[RunStatus, str] = {
    RunStatus.SUCCEEDED: "run.succeeded",
    RunStatus.PARTIAL_SUCCEEDED: "run.partial_succeeded",
    RunStatus.FAILED: "run.failed",
    RunStatus.STOPPED: "run.stopped",
    RunStatus.PAUSED: PAUSED,
}


@dataclass(frozen=True)
class StreamError:
    """What an `error` event says: the API's error shape (status, code, message)."""

    status: int
    code: str
    message: str


def run_frames(
    log: RunEventLog,
    *,
    tenant_id: str,
    run_id: str,
    after: int = 0,
    stop_on_pause: bool = True,
    task_id: str | None = None,
    read_run: Callable[[], RunRecord] | None = None,
    describe_error: Callable[[Exception], StreamError] | None = None,
    ping_seconds: float = PING_SECONDS,
    poll_seconds: float = 0.2,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    workflow_id: str | None = None,
) -> Iterator[bytes]:
    """The SSE chunks of the run's events after `after` (see the module's description).

    `read_run` reads the run's record: while the log is idle the stream asks it whether the run
    ended without its last event reaching the log; then the record's end is sent (without an id:
    it is not in the log) and the stream closes. `describe_error` maps an exception to the
    `error` event's status, code and message (the API's one error mapping). `workflow_id`:
    what workflow_started and workflow_finished name (dify_stream_events)."""
    task = task_id or run_id
    last_sent = clock()
    last_event: Event | None = None

    def run_ended() -> bool:
        if read_run is None:
            return False
        status = read_run().status
        return status.is_terminal or (stop_on_pause and status == RunStatus.PAUSED)

    try:
        for event in follow_run(
            log,
            tenant_id=tenant_id,
            run_id=run_id,
            after=after,
            poll_seconds=poll_seconds,
            stop_on_pause=stop_on_pause,
            clock=clock,
            sleep=sleep,
            run_ended=run_ended if read_run is not None else None,
        ):
            if event is None:
                if clock() - last_sent >= ping_seconds:
                    last_sent = clock()
                    yield PING_FRAME
                continue
            last_event = event
            payloads = dify_stream_events(event, task_id=task, workflow_id=workflow_id)
            if payloads:
                last_sent = clock()
                yield b"".join(sse_frame(payload, event_id=event.sequence) for payload in payloads)
        if read_run is not None and not _ends_stream(last_event, stop_on_pause):
            ending = _record_end(read_run(), last_event)
            if ending is not None:
                yield b"".join(
                    sse_frame(payload)
                    for payload in dify_stream_events(ending, task_id=task, workflow_id=workflow_id)
                )
    except Exception as error:
        logger.exception("run stream failed", extra={"run_id": run_id})
        described = (
            describe_error(error)
            if describe_error is not None
            else StreamError(500, "internal_error", "an internal error occurred")
        )
        yield sse_frame(
            dify_error_event(
                task_id=task,
                workflow_run_id=run_id,
                status=described.status,
                code=described.code,
                message=described.message,
            )
        )


def replay_frames(
    log: RunEventLog,
    *,
    tenant_id: str,
    run_id: str,
    after: int = 0,
    stop_on_pause: bool = True,
    task_id: str | None = None,
    read_run: Callable[[], RunRecord] | None = None,
    workflow_id: str | None = None,
) -> Iterator[bytes]:
    """The chunks `run_frames` sends for the events logged after `after`, without waiting for
    more: the answer where nothing can stream (the api function, whose whole body is sent at
    once). A client re-attaches from the last id it got, as after any dropped stream. When the
    run's record ended and the log lacks that end, the record's end closes the body (no id)."""
    task = task_id or run_id
    last = after
    last_event: Event | None = None
    while True:
        events = log.read(tenant_id=tenant_id, run_id=run_id, after=last, limit=READ_LIMIT)
        for event in events:
            if event.sequence <= last:
                continue
            last, last_event = event.sequence, event
            payloads = dify_stream_events(event, task_id=task, workflow_id=workflow_id)
            if payloads:
                yield b"".join(sse_frame(payload, event_id=event.sequence) for payload in payloads)
        if len(events) < READ_LIMIT:
            break
    if read_run is None or _ends_stream(last_event, stop_on_pause):
        return
    run = read_run()
    if not (run.status.is_terminal or (stop_on_pause and run.status == RunStatus.PAUSED)):
        return
    ending = _record_end(run, last_event)
    if ending is not None:
        yield b"".join(
            sse_frame(payload)
            for payload in dify_stream_events(ending, task_id=task, workflow_id=workflow_id)
        )


def _ends_stream(event: Event | None, stop_on_pause: bool) -> bool:
    return event is not None and (event.is_terminal or (stop_on_pause and event.type == PAUSED))


def _elapsed_seconds(run: RunRecord) -> float:
    if not run.finished_at:
        return 0.0
    return max((parse_iso(run.finished_at) - parse_iso(run.created_at)).total_seconds(), 0.0)


def _record_end(run: RunRecord, last: Event | None) -> Event | None:
    """The lifecycle event the run's record ended with, rebuilt from the record."""
    kind = _EVENT_OF_STATUS.get(run.status)
    if kind is None:
        return None
    data = {
        "status": run.status.value,
        "outputs": run.outputs or {},
        "error": run.error,
        "created_at": run.created_at,
        "finished_at": run.finished_at,
        "elapsed_time": _elapsed_seconds(run),
        "total_tokens": run.total_tokens,
        "total_price": run.total_price,
        "currency": run.currency,
        "user": run.user,
    }
    return Event(
        id=new_event_id(),
        type=kind,  # type: ignore[arg-type]
        time=run.finished_at or run.started_at or run.created_at,
        tenant=run.tenant_id,
        workflow_id=run.workflow_id,
        run_id=run.run_id,
        sequence=(last.sequence + 1) if last is not None else 1,
        data=data,
    )
