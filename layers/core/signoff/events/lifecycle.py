"""The lifecycle events of runs, nodes and reviews, built from the records that changed.

One method per lifecycle point, so an emission point is one line in the code it observes and the
`data` of every type (docs/internals.md, "Events") is shaped here only. Every method is safe to
call anywhere: building or emitting an event never raises into the caller's own work.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

from aws_lambda_powertools import Logger

from signoff.events.emitter import EventEmitter, PendingEvent
from signoff.events.envelope import Event
from signoff.store import parse_iso
from signoff.store.node_executions import NodeExecution, NodeExecutionStatus
from signoff.store.reviews import ReviewRecord, ReviewStatus
from signoff.store.runs import RunRecord

logger = Logger(child=True)

P = ParamSpec("P")
R = TypeVar("R")

_NODE_FINISHED_TYPES = {
    NodeExecutionStatus.SUCCEEDED: "node.succeeded",
    NodeExecutionStatus.FAILED: "node.failed",
    NodeExecutionStatus.EXCEPTION: "node.exception",
}
_REVIEW_DECIDED_TYPES = {
    ReviewStatus.APPROVED: "review.approved",
    ReviewStatus.REVISED: "review.revised",
    ReviewStatus.EDITED: "review.edited",
    ReviewStatus.SUBMITTED: "review.submitted",
}
_STEP_COUNT_PAGE = 1000


def _never_raises(method: Callable[P, R]) -> Callable[P, R | None]:
    @functools.wraps(method)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> R | None:
        try:
            return method(*args, **kwargs)
        except Exception:  # an event is a side effect; the work itself went fine
            logger.exception("lifecycle event not emitted", extra={"event": method.__name__})
            return None

    return guarded


@dataclass(frozen=True)
class NodeScope:
    """Where a node attempt runs, when the node function is told: inside which iteration or loop
    (and which item or round), after which node. Unknown parts stay None."""

    iteration_id: str | None = None
    iteration_index: int | None = None
    loop_id: str | None = None
    loop_index: int | None = None
    predecessor_node_id: str | None = None


def run_event_type(status: str) -> str:
    """The run.* type of a run status: "partial-succeeded" -> "run.partial_succeeded"."""
    return "run." + str(status).replace("-", "_")


def seconds_between(start: str | None, end: str | None) -> float:
    if not start or not end:
        return 0.0
    return max((parse_iso(end) - parse_iso(start)).total_seconds(), 0.0)


class RunLifecycle:
    """Emits the lifecycle events; a disabled emitter makes every method a no-op."""

    def __init__(self, emitter: EventEmitter | None = None) -> None:
        self._emitter = emitter or EventEmitter.disabled()

    @property
    def emitter(self) -> EventEmitter:
        return self._emitter

    # ------------------------------------------------------------------ runs

    @_never_raises
    def run_started(self, run: RunRecord) -> Event | None:
        if not self._emitter.enabled:
            return None
        return self._emitter.emit(
            tenant_id=run.tenant_id,
            workflow_id=run.workflow_id,
            run_id=run.run_id,
            type="run.started",
            data={
                "inputs": run.inputs,
                "workflow_version": run.workflow_version,
                "mode": run.mode,
                "user": run.user,
                "created_at": run.created_at,
                "retry_of": run.retry_of,
            },
        )

    @_never_raises
    def run_finished(self, run: RunRecord, *, exceptions_count: int = 0) -> Event | None:
        """The terminal run.* event of a settled run (its status as stored, whoever settled it).

        The log takes one terminal event per run, so every path that settles a run may call this:
        the settle function, a reconciling read, a cancel.
        """
        if not self._emitter.enabled or not run.status.is_terminal:
            return None
        error = run.error
        steps, last = self._steps(run)
        return self._emitter.emit(
            tenant_id=run.tenant_id,
            workflow_id=run.workflow_id,
            run_id=run.run_id,
            type=run_event_type(run.status.value),
            data={
                "status": run.status.value,
                "outputs": run.outputs,
                "error": (
                    {
                        "node_id": error.get("node_id"),
                        "type": error.get("type"),
                        "message": error.get("message"),
                    }
                    if error
                    else None
                ),
                "created_at": run.created_at,
                "finished_at": run.finished_at,
                "elapsed_time": seconds_between(run.created_at, run.finished_at),
                "total_tokens": run.total_tokens,
                "total_price": run.total_price,
                "currency": run.currency,
                "total_steps": steps,
                "exceptions_count": exceptions_count,
            },
            after=last,
        )

    def _steps(self, run: RunRecord) -> tuple[int, Event | None]:
        """How many node attempts the run made (its node.started events), and the log's last
        event as this read found it (where the terminal event goes: no second read)."""
        log = self._emitter.log
        if log is None:
            return 0, None
        steps, after, last = 0, 0, None
        while True:
            page = log.read(
                tenant_id=run.tenant_id, run_id=run.run_id, after=after, limit=_STEP_COUNT_PAGE
            )
            steps += sum(1 for event in page if event.type == "node.started")
            if page:
                last = page[-1]
            if len(page) < _STEP_COUNT_PAGE:
                return steps, last
            after = page[-1].sequence

    # ------------------------------------------------------------------ nodes

    @_never_raises
    def node_started(
        self,
        execution: NodeExecution,
        *,
        workflow_id: str,
        scope: NodeScope | None = None,
        after: Event | None = None,
    ) -> Event | None:
        """`after` (here and below): the last event this caller emitted for the run, if any."""
        if not self._emitter.enabled:
            return None
        return self._emitter.emit(
            tenant_id=execution.tenant_id,
            workflow_id=workflow_id,
            run_id=execution.run_id,
            node_id=execution.node_id,
            type="node.started",
            data=_node_started_data(execution, scope),
            after=after,
        )

    @_never_raises
    def node_finished(
        self,
        execution: NodeExecution,
        *,
        workflow_id: str,
        retrying: bool = False,
        usage: dict[str, Any] | None = None,
        scope: NodeScope | None = None,
        after: Event | None = None,
    ) -> Event | None:
        """node.succeeded | failed | exception for a finished attempt; node.retrying when the
        attempt failed and another follows."""
        if not self._emitter.enabled:
            return None
        event_type = "node.retrying" if retrying else _NODE_FINISHED_TYPES[execution.status]
        error = execution.error
        data = {
            **_node_started_data(execution, scope),
            "status": execution.status.value,
            "outputs": execution.outputs,
            "error": error.message if error else None,
            "error_type": error.type if error else None,
            "elapsed_time": (execution.elapsed_ms or 0) / 1000,
            "finished_at": execution.finished_at,
            "usage": _usage(usage),
        }
        return self._emitter.emit(
            tenant_id=execution.tenant_id,
            workflow_id=workflow_id,
            run_id=execution.run_id,
            node_id=execution.node_id,
            type=event_type,
            data=data,
            after=after,
        )

    # ------------------------------------------------------------------ iterations and loops

    @_never_raises
    def progress(
        self,
        *,
        tenant_id: str,
        workflow_id: str,
        run_id: str,
        type: str,
        node_id: str,
        node_type: str,
        title: str,
        created_at: str,
        index: int | None = None,
        inputs: dict[str, Any] | None = None,
        outputs: dict[str, Any] | None = None,
        status: str = "running",
        error: str | None = None,
        metadata: dict[str, Any] | None = None,
        finished_at: str | None = None,
        steps: int | None = None,
        after: Event | None = None,
    ) -> Event | None:
        """iteration.started | next | completed, loop.started | next | completed: the contract's
        {node_type, title, index, inputs, outputs, status, error, created_at}; started adds
        `metadata` (iterator_length, loop_length), completed `finished_at`, `elapsed_time` (s)
        and `steps` (items or rounds run). `created_at` is when the iteration or loop began
        (for next: when the item or round began)."""
        if not self._emitter.enabled:
            return None
        data: dict[str, Any] = {
            "node_type": node_type,
            "title": title,
            "index": index,
            "inputs": inputs,
            "outputs": outputs,
            "status": status,
            "error": error,
            "created_at": created_at,
        }
        if type.endswith(".started"):
            data["metadata"] = metadata or {}
        if type.endswith(".completed"):
            data["finished_at"] = finished_at
            data["elapsed_time"] = seconds_between(created_at, finished_at)
            data["steps"] = steps
        return self._emitter.emit(
            tenant_id=tenant_id,
            workflow_id=workflow_id,
            run_id=run_id,
            node_id=node_id,
            type=type,
            data=data,
            after=after,
        )

    # ------------------------------------------------------------------ reviews

    @_never_raises
    def review_requested(
        self, review: ReviewRecord, *, workflow_id: str, form: dict[str, Any] | None = None
    ) -> list[Event]:
        """review.requested, then run.paused: the run waits on this review."""
        if not self._emitter.enabled:
            return []
        requested: dict[str, Any] = {
            "review_id": review.review_id,
            "kind": review.kind.value,
            "round": review.round,
            "outputs": review.outputs,
            "created_at": review.created_at,
            "expires_at": review.expires_at,
        }
        if form is not None:
            requested["form"] = form
        return self._emitter.emit_all(
            [
                self._review_event(review, workflow_id, "review.requested", requested),
                self._review_event(review, workflow_id, "run.paused", _paused_data(review)),
            ]
        )

    @_never_raises
    def run_paused(self, review: ReviewRecord, *, workflow_id: str) -> Event | None:
        """run.paused alone: the run waits on `review` again (a decision Step Functions never
        heard was undone)."""
        if not self._emitter.enabled:
            return None
        return self._emitter.emit(
            tenant_id=review.tenant_id,
            workflow_id=workflow_id,
            run_id=review.run_id,
            node_id=review.node_id,
            type="run.paused",
            data=_paused_data(review),
        )

    @_never_raises
    def review_decided(
        self, review: ReviewRecord, *, workflow_id: str, resumed: bool
    ) -> list[Event]:
        """review.approved | revised | edited | submitted, then run.resumed when the run left
        `paused` with this decision."""
        event_type = _REVIEW_DECIDED_TYPES.get(review.status)
        if not self._emitter.enabled or event_type is None:
            return []
        pending = [
            self._review_event(
                review,
                workflow_id,
                event_type,
                {
                    "review_id": review.review_id,
                    "kind": review.kind.value,
                    "round": review.round,
                    "decided_by": review.decided_by,
                    "decided_at": review.decided_at,
                    "feedback": review.feedback,
                    "outputs": review.edited_outputs,
                    "action_id": review.action_id,
                    "inputs": review.inputs,
                },
            )
        ]
        if resumed:
            pending.append(self._resumed(review, workflow_id))
        return self._emitter.emit_all(pending)

    @_never_raises
    def review_timed_out(
        self, review: ReviewRecord, *, workflow_id: str, resumed: bool
    ) -> list[Event]:
        """review.timed_out (the wait's timeout passed), then run.resumed when the run went on."""
        if not self._emitter.enabled or review.status is not ReviewStatus.TIMED_OUT:
            return []
        pending = [
            self._review_event(
                review,
                workflow_id,
                "review.timed_out",
                {
                    "review_id": review.review_id,
                    "kind": review.kind.value,
                    "round": review.round,
                    "on_timeout": review.settings.get("on_timeout"),
                },
            )
        ]
        if resumed:
            pending.append(self._resumed(review, workflow_id))
        return self._emitter.emit_all(pending)

    def _resumed(self, review: ReviewRecord, workflow_id: str) -> PendingEvent:
        return self._review_event(
            review,
            workflow_id,
            "run.resumed",
            {"review_id": review.review_id, "node_id": review.node_id},
        )

    @staticmethod
    def _review_event(
        review: ReviewRecord, workflow_id: str, event_type: str, data: dict[str, Any]
    ) -> PendingEvent:
        return PendingEvent(
            tenant_id=review.tenant_id,
            workflow_id=workflow_id,
            run_id=review.run_id,
            type=event_type,
            data=data,
            node_id=review.node_id,
        )


def _paused_data(review: ReviewRecord) -> dict[str, Any]:
    return {"review_id": review.review_id, "node_id": review.node_id, "kind": review.kind.value}


def _node_started_data(execution: NodeExecution, scope: NodeScope | None) -> dict[str, Any]:
    scope = scope or NodeScope()
    return {
        "node_execution_id": execution.node_execution_id,
        "node_type": execution.node_type,
        "title": execution.title,
        "attempt": execution.attempt,
        "inputs": execution.inputs,
        "created_at": execution.started_at,
        "iteration_id": scope.iteration_id,
        "iteration_index": scope.iteration_index,
        "loop_id": scope.loop_id,
        "loop_index": scope.loop_index,
        "predecessor_node_id": scope.predecessor_node_id,
    }


def _usage(usage: dict[str, Any] | None) -> dict[str, Any] | None:
    if not usage:
        return None
    return {
        "total_tokens": usage.get("total_tokens"),
        "total_price": usage.get("total_price"),
        "currency": usage.get("currency"),
    }
