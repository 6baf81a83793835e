"""A run's variables (every node's latest outputs) and the edits a person makes while it is paused.

The state machine holds the live variables; this is the same picture rebuilt from the records,
in the order things happened: the start node's outputs are the run's inputs; a node execution
that finished sets its node's outputs; a review decided `edit` replaces them with the edited
outputs; a human-input submission sets the form's values; the patch sent with a decision replaces
the nodes it names. The pending patch (edits not sent yet) is applied on top.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from signoff.errors import InvalidInput
from signoff.graph import parse_workflow
from signoff.reviews.waits import utc_now
from signoff.store.node_executions import NodeExecution, format_time
from signoff.store.reviews import ReviewAction, ReviewRecord, ReviewRepository
from signoff.store.runs import PatchChanged, RunRecord, RunRepository
from signoff.store.workflows import WorkflowRepository

# Node execution statuses whose outputs the run went on with (`exception`: an error strategy
# handled a failure and the node reported default or error outputs).
_OUTPUT_STATUSES = frozenset({"succeeded", "exception"})
_PATCH_ATTEMPTS = 5


class NodeExecutionReader(Protocol):
    def list_for_run(self, tenant_id: str, run_id: str) -> list[NodeExecution]: ...


@dataclass(frozen=True)
class RunVariables:
    run: RunRecord
    # node id -> outputs, with the pending patch applied
    variables: dict[str, dict[str, Any] | None]
    pending_patch: dict[str, Any] = field(default_factory=dict)


def compose_variables(
    *,
    start_node_id: str | None,
    inputs: dict[str, Any],
    executions: Iterable[NodeExecution],
    reviews: Iterable[ReviewRecord],
) -> dict[str, dict[str, Any] | None]:
    """Every node's latest outputs as the run's records tell them (without the pending patch)."""
    # (when, order among events at the same moment, node id -> outputs)
    events: list[tuple[str, int, dict[str, Any]]] = []
    for execution in executions:
        if execution.status in _OUTPUT_STATUSES and execution.outputs is not None:
            when = execution.finished_at or execution.started_at
            events.append((when, 0, {execution.node_id: execution.outputs}))
    for review in reviews:
        if review.decided_at is None:
            continue
        changes: dict[str, Any] = {}
        if review.decision is ReviewAction.EDIT and review.edited_outputs is not None:
            changes[review.node_id] = review.edited_outputs
        if review.decision is ReviewAction.SUBMIT:
            changes[review.node_id] = review.inputs or {}
        changes.update(review.patch or {})
        if changes:
            events.append((review.decided_at, 1, changes))
    variables: dict[str, dict[str, Any] | None] = {}
    if start_node_id is not None:
        variables[start_node_id] = dict(inputs)
    for _, _, changes in sorted(events, key=lambda event: (event[0], event[1])):
        variables.update(changes)
    return variables


class VariablesService:
    def __init__(
        self,
        runs: RunRepository,
        workflows: WorkflowRepository,
        node_executions: NodeExecutionReader,
        reviews: ReviewRepository,
        *,
        clock: Callable[[], datetime] = utc_now,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._runs = runs
        self._workflows = workflows
        self._node_executions = node_executions
        self._reviews = reviews
        self._clock = clock
        self._sleep = sleep

    def recorded(self, run: RunRecord) -> dict[str, dict[str, Any] | None]:
        """The run's variables from its records, without edits not sent yet."""
        workflow = self._workflows.find(run.tenant_id, run.workflow_id)
        start_node_id = None
        if workflow is not None:
            start = [node for node in parse_workflow(workflow.graph).nodes if node.type == "start"]
            start_node_id = start[0].id if start else None
        return compose_variables(
            start_node_id=start_node_id,
            inputs=run.inputs,
            executions=self._node_executions.list_for_run(run.tenant_id, run.run_id),
            reviews=self._reviews.list_for_run(run.tenant_id, run.run_id),
        )

    def get(self, tenant_id: str, run_id: str) -> RunVariables:
        run = self._runs.get(tenant_id, run_id)
        return self._view(run, self.recorded(run))

    def patch(
        self, tenant_id: str, run_id: str, changes: dict[str, Any], *, edited_by: str
    ) -> RunVariables:
        """Change what the nodes downstream will see: each named node's outputs are updated
        with the given values (keys left out keep their value). Only while the run is paused
        (RunNotPaused, 409, otherwise); sent with the next decision."""
        run = self._runs.get(tenant_id, run_id)
        self._check_changes(run, changes)
        for attempt in range(_PATCH_ATTEMPTS):
            current = self._view(run, self.recorded(run)).variables
            pending = dict(run.pending_patch or {})
            at = format_time(self._clock())
            edits = []
            for node_id, values in changes.items():
                pending[node_id] = {**(current.get(node_id) or {}), **values}
                edits.append({"node_id": node_id, "outputs": values, "by": edited_by, "at": at})
            try:
                run = self._runs.stage_variable_patch(run, pending, edits)
            except PatchChanged:
                if attempt == _PATCH_ATTEMPTS - 1:
                    raise
                self._sleep(0.01 * (attempt + 1))
                run = self._runs.get(tenant_id, run_id)
                continue
            break
        return self._view(run, self.recorded(run))

    def _check_changes(self, run: RunRecord, changes: dict[str, Any]) -> None:
        if not changes:
            raise InvalidInput("name at least one node whose outputs change")
        workflow = self._workflows.get(run.tenant_id, run.workflow_id)
        node_ids = {node.id for node in parse_workflow(workflow.graph).nodes}
        for node_id, values in changes.items():
            if node_id not in node_ids:
                raise InvalidInput(f"the workflow has no node {node_id}", field=node_id)
            if not isinstance(values, dict):
                raise InvalidInput(
                    f"{node_id}: give the outputs to change as an object", field=node_id
                )

    @staticmethod
    def _view(run: RunRecord, recorded: dict[str, dict[str, Any] | None]) -> RunVariables:
        pending = run.pending_patch or {}
        return RunVariables(run=run, variables={**recorded, **pending}, pending_patch=pending)
