"""A run's variables (every node's latest outputs) and the edits a person makes while it is paused.

The state machine holds the live variables; this is the same picture rebuilt from the records,
in the order things happened: the start node's outputs are the run's inputs; a node execution
that finished sets its node's outputs; a review decided `edit` replaces them with the edited
outputs; a human-input submission sets the form's values; the patch sent with a decision replaces
the nodes it names. The pending patch (edits not sent yet) is applied on top.

A node inside iterations and loops runs once per item and round: `variables` keeps its latest
outputs (whichever item ran last), and `items` its outputs per item and round, from the
executions (which record their index path), the decisions of the waits at that index path, and
the pending edits of that item (`<node>@<i>.<j>` in the pending patch, marked `pending`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from signoff.errors import InvalidInput, NotFound
from signoff.graph import parse_workflow
from signoff.graph.scopes import scopes_of_nodes
from signoff.reviews.decisions import CONTAINERS_FIELD, ITEM_FIELD, item_patch_key
from signoff.reviews.waits import utc_now
from signoff.store.node_executions import NodeExecution, format_time
from signoff.store.reviews import IndexStep, ReviewAction, ReviewRecord, ReviewRepository
from signoff.store.runs import PatchChanged, RunRecord, RunRepository
from signoff.store.workflows import WorkflowRecord, WorkflowRepository

# Node execution statuses whose outputs the run went on with (`exception`: an error strategy
# handled a failure and the node reported default or error outputs).
_OUTPUT_STATUSES = frozenset({"succeeded", "exception"})
_PATCH_ATTEMPTS = 5
# The field of an edit naming the item (or loop round) of a node inside iterations and loops.


class NodeExecutionReader(Protocol):
    def list_for_run(self, tenant_id: str, run_id: str) -> list[NodeExecution]: ...


Indexes = tuple[int, ...]
# node id -> the containers around it, outermost first (only nodes inside iterations and loops).
Containers = dict[str, list[str]]


@dataclass(frozen=True)
class ItemOutputs:
    """A node's outputs in one item (or round) of the iterations and loops around it."""

    index_path: list[IndexStep]
    outputs: dict[str, Any] | None
    # An edit of this item not sent yet is applied (it is in the pending patch).
    pending: bool = False


@dataclass(frozen=True)
class RunVariables:
    run: RunRecord
    # node id -> outputs, with the pending patch applied (its plain edits: item edits are
    # applied in `items`)
    variables: dict[str, dict[str, Any] | None]
    pending_patch: dict[str, Any] = field(default_factory=dict)
    # node id -> its outputs per item and round, in index order (nodes inside iterations and
    # loops), with the pending item edits applied
    items: dict[str, list[ItemOutputs]] = field(default_factory=dict)


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


def compose_item_variables(
    *,
    containers: Containers,
    executions: Iterable[NodeExecution],
    reviews: Iterable[ReviewRecord],
) -> dict[str, dict[Indexes, ItemOutputs]]:
    """The outputs of every item's (and round's) run of the nodes inside iterations and loops,
    as the records tell them (without the pending patch): node id -> indexes -> outputs. An
    execution that finished sets its item's outputs; a wait decided at an index path sets its
    node's (edit, form submission) and those of the item's nodes its patch names."""
    # (when, order among events at the same moment, node id, index path, outputs)
    events: list[tuple[str, int, str, list[IndexStep], dict[str, Any]]] = []
    for execution in executions:
        if (
            execution.index_path
            and execution.status in _OUTPUT_STATUSES
            and execution.outputs is not None
        ):
            when = execution.finished_at or execution.started_at
            events.append((when, 0, execution.node_id, execution.index_path, execution.outputs))
    for review in reviews:
        if review.decided_at is None or not review.index_path:
            continue
        path = review.index_path
        if review.decision is ReviewAction.EDIT and review.edited_outputs is not None:
            events.append((review.decided_at, 1, review.node_id, path, review.edited_outputs))
        if review.decision is ReviewAction.SUBMIT:
            events.append((review.decided_at, 1, review.node_id, path, review.inputs or {}))
        for node_id, outputs in (review.patch or {}).items():
            # An item's edit reaches the waits at its own index path only (see
            # reviews/decisions.py `deliverable_patch`); plain edits are top-level nodes'.
            around = containers.get(node_id)
            if around is not None and len(around) == len(path):
                events.append((review.decided_at, 1, node_id, path, outputs))
    found: dict[str, dict[Indexes, ItemOutputs]] = {}
    for _, _, node_id, path, outputs in sorted(events, key=lambda event: (event[0], event[1])):
        indexes = tuple(step.index for step in path)
        found.setdefault(node_id, {})[indexes] = ItemOutputs(
            _index_path(containers, node_id, path), outputs
        )
    return found


def _index_path(containers: Containers, node_id: str, path: list[IndexStep]) -> list[IndexStep]:
    """The node's own containers with the given indexes (the record's path when unknown)."""
    around = containers.get(node_id)
    if around is None or len(around) != len(path):
        return list(path)
    return [
        IndexStep(container_id=c, index=step.index) for c, step in zip(around, path, strict=True)
    ]


def with_pending_items(
    items: dict[str, dict[Indexes, ItemOutputs]],
    pending: dict[str, Any],
    containers: Containers,
) -> dict[str, list[ItemOutputs]]:
    """The recorded item outputs with the pending item edits (`<node>@<i>.<j>`) applied, each
    node's items in index order."""
    merged = {node_id: dict(by_index) for node_id, by_index in items.items()}
    for key, outputs in pending.items():
        node_id, at, where = key.partition("@")
        around = containers.get(node_id)
        if not at or around is None:
            continue
        indexes = tuple(int(index) for index in where.split("."))
        if len(indexes) != len(around):
            continue
        path = [IndexStep(container_id=c, index=i) for c, i in zip(around, indexes, strict=True)]
        merged.setdefault(node_id, {})[indexes] = ItemOutputs(path, outputs, pending=True)
    return {
        node_id: [by_index[indexes] for indexes in sorted(by_index)]
        for node_id, by_index in sorted(merged.items())
    }


@dataclass(frozen=True)
class _Recorded:
    """What the run's records say: the latest outputs per node, and per item inside bodies."""

    variables: dict[str, dict[str, Any] | None]
    items: dict[str, dict[Indexes, ItemOutputs]]
    containers: Containers


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
        return self._read(run).variables

    def _read(self, run: RunRecord) -> _Recorded:
        workflow = self._run_workflow(run)
        start_node_id = None
        containers: Containers = {}
        if workflow is not None:
            nodes = {node.id: node for node in parse_workflow(workflow.graph).nodes}
            start = [node for node in nodes.values() if node.type == "start"]
            start_node_id = start[0].id if start else None
            scopes = scopes_of_nodes(nodes)
            for node_id in nodes:
                around = scopes.enclosing(node_id)
                if around:
                    containers[node_id] = list(reversed(around))
        executions = self._node_executions.list_for_run(run.tenant_id, run.run_id)
        reviews = self._reviews.list_for_run(run.tenant_id, run.run_id)
        return _Recorded(
            variables=compose_variables(
                start_node_id=start_node_id,
                inputs=run.inputs,
                executions=executions,
                reviews=reviews,
            ),
            items=compose_item_variables(
                containers=containers, executions=executions, reviews=reviews
            ),
            containers=containers,
        )

    def get(self, tenant_id: str, run_id: str) -> RunVariables:
        run = self._runs.get(tenant_id, run_id)
        return self._view(run, self._read(run))

    def patch(
        self, tenant_id: str, run_id: str, changes: dict[str, Any], *, edited_by: str
    ) -> RunVariables:
        """Change what the nodes downstream will see: each named node's outputs are updated
        with the given values (keys left out keep their value). Only while the run is paused
        (RunNotPaused, 409, otherwise); sent with the next decision."""
        run = self._runs.get(tenant_id, run_id)
        keyed = self._check_changes(run, changes)
        for attempt in range(_PATCH_ATTEMPTS):
            current = self._view(run, self._read(run))
            pending = dict(run.pending_patch or {})
            at = format_time(self._clock())
            edits = []
            for node_id, (key, indexes, values, containers) in keyed.items():
                if indexes is None:
                    base = current.variables.get(node_id) or {}
                else:
                    base = pending.get(key) or self._item_outputs(current, node_id, indexes)
                pending[key] = {**base, **values}
                edit = {"node_id": node_id, "outputs": values, "by": edited_by, "at": at}
                if indexes is not None:
                    edit[ITEM_FIELD] = indexes
                    # Which containers the indexes count in: a wait at the same indexes in other
                    # containers must not take this edit (reviews/decisions.py).
                    edit[CONTAINERS_FIELD] = containers
                edits.append(edit)
            try:
                run = self._runs.stage_variable_patch(run, pending, edits)
            except PatchChanged:
                if attempt == _PATCH_ATTEMPTS - 1:
                    raise
                self._sleep(0.01 * (attempt + 1))
                run = self._runs.get(tenant_id, run_id)
                continue
            break
        return self._view(run, self._read(run))

    def _check_changes(
        self, run: RunRecord, changes: dict[str, Any]
    ) -> dict[str, tuple[str, list[int] | None, dict[str, Any], list[str]]]:
        """Each change checked: node id -> (its pending patch key, the item's indexes or None,
        the values, the containers around the node outermost first). A node inside iterations
        or loops runs once per item and round: its edit names which with `__item` (the index, or
        the indexes of the containers around it, outermost first), and applies to that item's
        run of the node only."""
        if not changes:
            raise InvalidInput("name at least one node whose outputs change")
        workflow = self._workflows.get_version(run.tenant_id, run.workflow_id, run.workflow_version)
        nodes = {node.id: node for node in parse_workflow(workflow.graph).nodes}
        scopes = scopes_of_nodes(nodes)
        keyed: dict[str, tuple[str, list[int] | None, dict[str, Any], list[str]]] = {}
        for node_id, values in changes.items():
            if node_id not in nodes:
                raise InvalidInput(f"the workflow has no node {node_id}", field=node_id)
            if not isinstance(values, dict):
                raise InvalidInput(
                    f"{node_id}: give the outputs to change as an object", field=node_id
                )
            values = dict(values)
            item = values.pop(ITEM_FIELD, None)
            containers = list(reversed(scopes.enclosing(node_id)))
            depth = len(containers)
            field_name = f"{node_id}.{ITEM_FIELD}"
            if depth == 0:
                if item is not None:
                    raise InvalidInput(
                        f"{node_id} is not inside an iteration or loop: leave out {ITEM_FIELD}",
                        field=field_name,
                    )
                keyed[node_id] = (node_id, None, values, [])
                continue
            indexes = [item] if isinstance(item, int) and not isinstance(item, bool) else item
            well_formed = isinstance(indexes, list) and all(
                isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in indexes
            )
            if item is None or not well_formed or len(indexes) != depth:
                raise InvalidInput(
                    f"{node_id} runs once per item or round of the {depth} container(s) around"
                    f" it: name which with {ITEM_FIELD} (the index, or {depth} indexes outermost"
                    " first)",
                    field=field_name,
                )
            keyed[node_id] = (item_patch_key(node_id, indexes), indexes, values, containers)
        return keyed

    def _run_workflow(self, run: RunRecord) -> WorkflowRecord | None:
        """The workflow as of the version the run is on, whatever is newest (None when gone)."""
        try:
            return self._workflows.get_version(run.tenant_id, run.workflow_id, run.workflow_version)
        except NotFound:
            return None

    @staticmethod
    def _item_outputs(current: RunVariables, node_id: str, indexes: list[int]) -> dict[str, Any]:
        """The outputs of one item's run of a node, as its records tell them."""
        for item in current.items.get(node_id, []):
            if [step.index for step in item.index_path] == indexes:
                return dict(item.outputs or {})
        return {}

    @staticmethod
    def _view(run: RunRecord, recorded: _Recorded) -> RunVariables:
        pending = run.pending_patch or {}
        # Item edits (`<node>@<indexes>`) show in `items`, not as variables of their own.
        plain = {key: outputs for key, outputs in pending.items() if "@" not in key}
        return RunVariables(
            run=run,
            variables={**recorded.variables, **plain},
            pending_patch=pending,
            items=with_pending_items(recorded.items, pending, recorded.containers),
        )
