"""Retrying a failed or stopped run from one of its nodes.

The retry is a new run (linked by `retry_of`) of the workflow version the original ran, on that
version's "resume" state machine variant (signoff/reviews/variants.py): its execution begins at
the node, with the variables of every node the original run finished before it (from its
records, patched by the caller) and the handle each of them took, so guards downstream see the
same taken and skipped edges as in the original run.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Protocol

from signoff.errors import Conflict, InvalidInput
from signoff.graph import parse_workflow
from signoff.graph.model import FAIL_BRANCH_HANDLE, SOURCE_HANDLE, SUCCESS_BRANCH_HANDLE, Workflow
from signoff.graph.topology import Topology
from signoff.reviews.variables import VariablesService
from signoff.runs.service import run_context
from signoff.store import utc_now_iso
from signoff.store.node_executions import NodeExecution
from signoff.store.runs import RunRecord, RunRepository, RunStatus
from signoff.store.workflows import WorkflowRecord, WorkflowRepository

RETRYABLE_STATUSES = frozenset({RunStatus.FAILED, RunStatus.STOPPED})


class RunNotRetryable(Conflict):
    code = "run_not_retryable"


class RunLauncher(Protocol):
    """signoff.runs.service.RunService.launch"""

    def launch(
        self, run: RunRecord, state_machine_arn: str, execution_input: dict[str, Any]
    ) -> RunRecord: ...


class ResumeVariants(Protocol):
    def arn(self, record: WorkflowRecord, variant: Any) -> str: ...


class NodeExecutionReader(Protocol):
    def list_for_run(self, tenant_id: str, run_id: str) -> list[NodeExecution]: ...


@dataclass(frozen=True)
class ResumePoint:
    """The execution input's `resume` (signoff/reviews/variants.py)."""

    from_node_id: str
    variables: dict[str, dict[str, Any] | None]
    taken: dict[str, str]

    def as_input(self) -> dict[str, Any]:
        return {"from_node_id": self.from_node_id, "variables": self.variables, "taken": self.taken}


def resume_point(
    workflow: Workflow,
    from_node_id: str,
    recorded: dict[str, dict[str, Any] | None],
    executions: list[NodeExecution],
) -> ResumePoint:
    """Where and with what a retry of a run with these records begins.

    The nodes reachable from `from_node_id` run again, so their variables are left out. A node
    ran in the original run if it has a record (or outputs), or, for a node that leaves none (a
    logic node), if a node it leads to ran. A node that ran took the handle of its edge to a node
    that ran; one whose successors never ran took its only handle.
    """
    topology = Topology([node.id for node in workflow.nodes], workflow.edges)
    runs_again = topology.reachable_from([from_node_id])
    status_by_node = {execution.node_id: str(execution.status) for execution in executions}
    ran = {node_id for node_id, outputs in recorded.items() if outputs is not None}
    ran |= set(status_by_node) | {from_node_id}
    for node_id in reversed(topology.topological_order(_roots(workflow, topology))):
        if node_id not in ran and any(target in ran for target in topology.successors[node_id]):
            ran.add(node_id)

    taken: dict[str, str] = {}
    nodes = workflow.nodes_by_id
    for node_id in topology.topological_order(_roots(workflow, topology)):
        if node_id not in ran or node_id in runs_again:
            continue
        edge_handles = [
            edge.source_handle
            for edge in topology.edges
            if edge.source == node_id and edge.target in ran
        ]
        if edge_handles:
            taken[node_id] = edge_handles[0]
            continue
        node = nodes[node_id]
        if node.error_strategy == "fail-branch":
            failed = status_by_node.get(node_id) == "exception"
            taken[node_id] = FAIL_BRANCH_HANDLE if failed else SUCCESS_BRANCH_HANDLE
        elif node.handles == [SOURCE_HANDLE]:
            taken[node_id] = SOURCE_HANDLE
    variables = {
        node_id: outputs
        for node_id, outputs in recorded.items()
        if node_id not in runs_again and outputs is not None
    }
    return ResumePoint(from_node_id=from_node_id, variables=variables, taken=taken)


def _roots(workflow: Workflow, topology: Topology) -> list[str]:
    return [node.id for node in workflow.nodes if not topology.predecessors[node.id]]


class RetryService:
    def __init__(
        self,
        runs: RunRepository,
        workflows: WorkflowRepository,
        node_executions: NodeExecutionReader,
        variables: VariablesService,
        variants: ResumeVariants,
        launcher: RunLauncher,
    ) -> None:
        self._runs = runs
        self._workflows = workflows
        self._node_executions = node_executions
        self._variables = variables
        self._variants = variants
        self._launcher = launcher

    def retry(
        self,
        tenant_id: str,
        run_id: str,
        from_node_id: str,
        variables: dict[str, Any] | None = None,
    ) -> RunRecord:
        original = self._runs.get(tenant_id, run_id)
        if original.status not in RETRYABLE_STATUSES:
            raise RunNotRetryable(
                f"run {run_id} is {original.status.value}: only a failed or stopped run is retried"
            )
        # The version the original ran: its graph and its resume variant, whatever is newest.
        record = self._workflows.get_version(
            tenant_id, original.workflow_id, original.workflow_version
        )
        workflow = parse_workflow(record.graph)
        node = workflow.nodes_by_id.get(from_node_id)
        if node is None:
            raise InvalidInput(f"the workflow has no node {from_node_id}", field="from_node_id")
        if node.type == "start":
            raise InvalidInput(
                "a retry from the start node is a new run: start one", field="from_node_id"
            )
        point = resume_point(
            workflow,
            from_node_id,
            self._variables.recorded(original),
            self._node_executions.list_for_run(tenant_id, run_id),
        )
        point = _patched(point, workflow, variables or {})
        arn = self._variants.arn(record, "resume")
        run = self._runs.create(
            RunRecord(
                tenant_id=tenant_id,
                run_id=str(uuid.uuid4()),
                workflow_id=original.workflow_id,
                workflow_version=record.version,
                workflow_version_id=record.version_id,
                inputs=original.inputs,
                user=original.user,
                created_at=utc_now_iso(),
                retry_of=original.run_id,
            )
        )
        execution_input = {
            "run": run_context(run),
            "inputs": original.inputs,
            "resume": point.as_input(),
        }
        return self._launcher.launch(run, arn, execution_input)


def _patched(point: ResumePoint, workflow: Workflow, changes: dict[str, Any]) -> ResumePoint:
    """The caller's edits: each named node's outputs updated with the given values."""
    topology = Topology([node.id for node in workflow.nodes], workflow.edges)
    runs_again = topology.reachable_from([point.from_node_id])
    variables = dict(point.variables)
    for node_id, values in changes.items():
        field = f"variables.{node_id}"
        if node_id not in workflow.nodes_by_id:
            raise InvalidInput(f"the workflow has no node {node_id}", field=field)
        if node_id in runs_again:
            raise InvalidInput(
                f"node {node_id} runs again in the retry: its outputs cannot be given",
                field=field,
            )
        if not isinstance(values, dict):
            raise InvalidInput(f"{node_id}: give the outputs as an object", field=field)
        variables[node_id] = {**(variables.get(node_id) or {}), **values}
    return ResumePoint(point.from_node_id, variables, point.taken)
