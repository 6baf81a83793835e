"""Every attempt and every review round of a run's nodes, in the order they started.

Node executions are the spine (one per attempt of each round). A review belongs to the execution
it reviewed: the latest one of its node, for the same item and round (index path), that had
finished when the review was requested. A wait with no execution of its own (a human-input form,
a step pause after a logic node) is an entry by itself, starting when it was requested.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from signoff.store.node_executions import NodeExecution, parse_time
from signoff.store.reviews import (
    DECIDED_STATUSES,
    IndexStep,
    ReviewRecord,
    ReviewRepository,
    ReviewStatus,
    place_of,
)
from signoff.store.runs import RunRepository

_REVIEWABLE_STATUSES = frozenset({"succeeded", "exception"})


class NodeExecutionReader(Protocol):
    def list_for_run(self, tenant_id: str, run_id: str) -> list[NodeExecution]: ...


@dataclass(frozen=True)
class HistoryEntry:
    """One line of a run's node history: an execution (with the review of its outputs, if
    any), or a wait that no execution precedes."""

    node_execution_id: str
    node_id: str
    node_type: str
    title: str
    attempt: int
    status: str
    started_at: str
    inputs: dict[str, Any] | None = None
    outputs: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    finished_at: str | None = None
    elapsed_ms: int | None = None
    review: ReviewRecord | None = None
    # Inside iterations and loops: which item and round (as on the execution or the wait).
    container_id: str | None = None
    item_index: int | None = None
    loop_index: int | None = None
    index_path: list[IndexStep] | None = None

    @property
    def round(self) -> int | None:
        return self.review.round if self.review is not None else None


def merge_history(
    executions: Iterable[NodeExecution], reviews: Iterable[ReviewRecord]
) -> list[HistoryEntry]:
    entries = [_execution_entry(execution) for execution in executions]
    for review in sorted(reviews, key=lambda review: review.review_id):
        position = _reviewed_execution(entries, review)
        if position is None:
            entries.append(_wait_entry(review))
        else:
            entries[position] = _with_review(entries[position], review)
    return sorted(entries, key=lambda entry: (parse_time(entry.started_at), entry.node_id))


class RunHistory:
    """GET /runs/{id}/nodes: the run's node executions merged with its reviews."""

    def __init__(
        self,
        runs: RunRepository,
        node_executions: NodeExecutionReader,
        reviews: ReviewRepository,
        *,
        resolve: Callable[[str, Any], Any] | None = None,
    ) -> None:
        self._runs = runs
        self._node_executions = node_executions
        self._reviews = reviews
        # Large values (signoff/payloads.py) are shown as themselves, not as references.
        self._resolve = resolve

    def list(self, tenant_id: str, run_id: str) -> list[HistoryEntry]:
        # The run lookup is the tenant check: another tenant's run is NotFound here.
        self._runs.get(tenant_id, run_id)
        executions = self._node_executions.list_for_run(tenant_id, run_id)
        if self._resolve is not None:
            resolve = self._resolve
            executions = [
                execution.model_copy(
                    update={
                        "inputs": resolve(tenant_id, execution.inputs),
                        "outputs": resolve(tenant_id, execution.outputs),
                    }
                )
                for execution in executions
            ]
        return merge_history(executions, self._reviews.list_for_run(tenant_id, run_id))


def _execution_entry(execution: NodeExecution) -> HistoryEntry:
    return HistoryEntry(
        node_execution_id=execution.node_execution_id,
        node_id=execution.node_id,
        node_type=execution.node_type,
        title=execution.title or execution.node_id,
        attempt=execution.attempt,
        status=str(execution.status),
        started_at=execution.started_at,
        inputs=execution.inputs,
        outputs=execution.outputs,
        error=execution.error.model_dump() if execution.error is not None else None,
        finished_at=execution.finished_at,
        elapsed_ms=execution.elapsed_ms,
        container_id=execution.container_id,
        item_index=execution.item_index,
        loop_index=execution.loop_index,
        index_path=execution.index_path,
    )


def _reviewed_execution(entries: list[HistoryEntry], review: ReviewRecord) -> int | None:
    requested = parse_time(review.created_at)
    candidates = [
        position
        for position, entry in enumerate(entries)
        if entry.node_id == review.node_id
        and _same_place(entry, review)
        and entry.review is None
        and entry.status in _REVIEWABLE_STATUSES
        and entry.finished_at is not None
        and parse_time(entry.finished_at) <= requested
    ]
    if not candidates:
        return None
    return max(candidates, key=lambda position: parse_time(entries[position].started_at))


def _same_place(entry: HistoryEntry, review: ReviewRecord) -> bool:
    """Whether the execution ran for the item and round the review waits in (an execution
    recorded before executions kept their place matches any)."""
    return entry.index_path is None or place_of(entry.index_path) == review.place


def _with_review(entry: HistoryEntry, review: ReviewRecord) -> HistoryEntry:
    return HistoryEntry(**{**entry.__dict__, "review": review})


def _wait_entry(review: ReviewRecord) -> HistoryEntry:
    """A wait no execution precedes: pending shows as paused; a decision as succeeded with the
    submitted (or edited, or shown) values as its outputs."""
    if review.is_pending:
        status = "paused"
    elif review.status in DECIDED_STATUSES:
        status = "succeeded"
    else:
        status = review.status.value
    outputs = review.outputs
    if review.status is ReviewStatus.SUBMITTED:
        outputs = review.inputs
    elif review.edited_outputs is not None:
        outputs = review.edited_outputs
    started_ms = int(parse_time(review.created_at).timestamp() * 1000)
    entry_id = f"{started_ms:013d}#{review.node_id}#wait-{review.round:03d}"
    if review.index_path:
        # One wait per item and round, as execution ids are.
        entry_id += "@" + ".".join(str(step.index) for step in review.index_path)
    return HistoryEntry(
        node_execution_id=entry_id,
        node_id=review.node_id,
        node_type=review.node_type,
        title=review.node_title or review.node_id,
        attempt=1,
        status=status,
        started_at=review.created_at,
        outputs=outputs,
        finished_at=review.decided_at,
        review=review,
        container_id=review.container_id,
        item_index=review.item_index,
        loop_index=review.loop_index,
        index_path=review.index_path,
    )
