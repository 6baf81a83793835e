"""Iteration and loop progress as the node function emits it (compiler/lowering/progress.py
says where the notices come from): a progress Task's request, or the notice a node carries when
it begins its container's item or round.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger
from pydantic import ValidationError

from signoff.events.envelope import Event
from signoff.events.lifecycle import RunLifecycle
from signoff.nodes.errors import InvalidNodeEvent
from signoff.nodes.event import ProgressNotice, ProgressRequest, RunContext
from signoff.payloads import PayloadStore
from signoff.store.node_executions import format_time

logger = Logger(child=True)

PROGRESS_REQUEST = "progress"
_RUNNING = "running"
_SUCCEEDED = "succeeded"

Clock = Callable[[], datetime]


def is_progress_request(event: dict[str, Any]) -> bool:
    return isinstance(event, dict) and event.get("request") == PROGRESS_REQUEST


def record_progress(
    event: dict[str, Any],
    *,
    events: RunLifecycle,
    payloads: PayloadStore | None = None,
    clock: Clock | None = None,
) -> dict[str, Any]:
    """Emit a progress Task's notices in order; answers `{"started_at"}` (the time they were
    emitted at), which a started Task keeps for its completed one."""
    try:
        request = ProgressRequest.model_validate(event)
    except ValidationError as error:
        raise InvalidNodeEvent(f"the progress event is malformed: {error.errors()[0]}") from error
    now = format_time((clock or _utc_now)())
    emit_notices(request.run, request.progress, events=events, payloads=payloads, now=now)
    return {"started_at": now}


def emit_notices(
    run: RunContext,
    notices: Iterable[ProgressNotice],
    *,
    events: RunLifecycle,
    payloads: PayloadStore | None,
    now: str,
) -> Event | None:
    """Emit the notices in order; answers the last event emitted (each goes right after the one
    before without reading the log first)."""
    last: Event | None = None
    for notice in notices:
        try:
            last = _emit(run, notice, events=events, payloads=payloads, now=now, after=last) or last
        except Exception:  # an event is a side effect: the run goes on without it
            logger.exception("progress event not emitted", extra={"type": notice.type})
    return last


def _emit(
    run: RunContext,
    notice: ProgressNotice,
    *,
    events: RunLifecycle,
    payloads: PayloadStore | None,
    now: str,
    after: Event | None = None,
) -> Event | None:
    completed = notice.type.endswith(".completed")
    return events.progress(
        tenant_id=run.tenant_id,
        workflow_id=run.workflow_id,
        run_id=run.run_id,
        type=notice.type,
        node_id=notice.node_id,
        node_type=notice.node_type,
        title=notice.title or notice.node_id,
        created_at=(notice.started_at or now) if completed else now,
        index=notice.index,
        inputs=_offloaded(payloads, run, notice, notice.inputs, "inputs"),
        outputs=_offloaded(payloads, run, notice, notice.outputs, "outputs"),
        status=_SUCCEEDED if completed else _RUNNING,
        metadata=_metadata(notice),
        finished_at=now if completed else None,
        steps=notice.steps,
        after=after,
    )


def _metadata(notice: ProgressNotice) -> dict[str, Any] | None:
    if not notice.type.endswith(".started"):
        return None
    metadata = dict(notice.metadata or {})
    if notice.node_type == "iteration":
        items = (notice.inputs or {}).get("iterator_selector")
        metadata["iterator_length"] = len(items) if isinstance(items, list) else 0
    return metadata


def _offloaded(
    payloads: PayloadStore | None,
    run: RunContext,
    notice: ProgressNotice,
    values: dict[str, Any] | None,
    part: str,
) -> dict[str, Any] | None:
    """Large values become payload references, as in node records: an event stays small."""
    if values is None or payloads is None:
        return values
    return payloads.offload(
        values,
        tenant_id=run.tenant_id,
        run_id=run.run_id,
        label=f"progress/{notice.node_id}/{notice.type}/{part}",
    )


def _utc_now() -> datetime:
    return datetime.now(UTC)
