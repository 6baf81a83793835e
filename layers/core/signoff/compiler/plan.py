"""The schedule of a compiled workflow: per scope, its nodes' layout and each node's guard.

Each scope (the top level, the inside of each iteration and loop) is laid out on its own
(structure.py). A node that does not always run gets a guard: it runs iff one of its incoming
edges was taken, that is, the edge's source ran and left by the edge's handle. Every node that
some guard asks about records the handle it left by in `$r_<node>` (`source` for a
non-branching node, a case id or `false` for an if-else, a class id for a classifier,
`success-branch`/`fail-branch` with error_strategy fail-branch), which stays null when the node
is skipped: "ran" never depends on what a node output, which may be null.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from signoff.compiler.structure import Block, Structurer
from signoff.graph.model import (
    AssignerNode,
    Edge,
    IfElseNode,
    IterationNode,
    ListOperatorNode,
    LoopEndNode,
    LoopNode,
    Node,
    StartNode,
    VariableAggregatorNode,
    Workflow,
)
from signoff.graph.scopes import Scopes, scopes_of_nodes
from signoff.graph.selectors import find_references, is_run_variable
from signoff.graph.topology import Topology


@dataclass
class GuardTerm:
    source_id: str
    # The handles of the source that lead here, in the source's order; None: any handle.
    handles: list[str] | None


@dataclass
class Step:
    node: Node
    # The incoming edges that make the node run (any one of them); None when it always runs.
    guard: list[GuardTerm] | None = None
    # Whether this node must record the handle it leaves by (something reads it).
    records_handle: bool = False

    @property
    def state_name(self) -> str:
        return self.node.id

    @property
    def guard_state_name(self) -> str:
        return f"Should run {self.node.id}?"


@dataclass
class ScopePlan:
    """One scope: the node it begins at, and the layout of the others."""

    container: str | None
    entry: Node
    block: Block
    order: list[str]


@dataclass
class Plan:
    workflow: Workflow
    start: StartNode
    scopes: Scopes
    steps: dict[str, Step] = field(default_factory=dict)
    scope_plans: dict[str | None, ScopePlan] = field(default_factory=dict)
    # node id -> the ids of the nodes with an edge into it (within its scope).
    sources: dict[str, set[str]] = field(default_factory=dict)
    # node id -> its outputs that native states compute on (so they must not be references).
    inline_reads: dict[str, set[str]] = field(default_factory=dict)

    @property
    def top(self) -> ScopePlan:
        return self.scope_plans[None]


def edge_handle(source: Node, edge: Edge) -> str:
    """The handle an edge leaves by, as the node reports it."""
    return source.edge_handle(edge.source_handle)


def plan_workflow(workflow: Workflow) -> Plan:
    """The schedule of a valid workflow (see `signoff.graph.validate_workflow`)."""
    nodes = workflow.nodes_by_id
    scopes = scopes_of_nodes(nodes)
    start = next(
        node for node in workflow.nodes if isinstance(node, StartNode) and node.parent_id is None
    )
    plan = Plan(workflow, start, scopes)
    topology = Topology(nodes, workflow.edges)
    for node_id in nodes:
        plan.sources[node_id] = set(topology.predecessors[node_id])
    entries: dict[str | None, Node] = {None: start}
    for container_id in scopes.containers:
        container = nodes[container_id]
        assert isinstance(container, IterationNode | LoopNode)
        entries[container_id] = nodes[container.start_node_id]
    for scope, entry in entries.items():
        order = topology.topological_order([entry.id])
        _plan_guards(plan, topology, order, entry)
        members = [node_id for node_id in order if node_id != entry.id]
        structurer = Structurer(
            order, topology.edges, nodes, lambda group: _may_branch(plan, group)
        )
        plan.scope_plans[scope] = ScopePlan(scope, entry, structurer.block(members), order)
    _mark_recorded_handles(plan)
    plan.inline_reads = _inline_reads(workflow)
    return plan


def _inline_reads(workflow: Workflow) -> dict[str, set[str]]:
    """The outputs native states inspect (conditions, lists to iterate, filter or change):
    a large value there must stay a value, not become a payload reference."""
    selectors: list[list[str]] = []
    texts: list[str] = []
    for node in workflow.nodes:
        if isinstance(node, IfElseNode | ListOperatorNode | AssignerNode | IterationNode):
            selectors += node.selectors()
            texts += node.texts()
        elif isinstance(node, LoopNode):
            selectors += node.selectors() + node.break_selectors()
            texts += node.break_texts()
    selectors += [
        ref.selector for text in texts for ref in find_references(text) if ref.is_well_formed
    ]
    found: dict[str, set[str]] = {}
    for selector in selectors:
        if len(selector) >= 2 and not is_run_variable(selector):
            found.setdefault(selector[0], set()).add(selector[1])
    return found


def _post_dominators(topology: Topology, order: list[str], nodes: dict[str, Node]) -> dict:
    """For each node, the bit set of the nodes every run through it goes on to reach (its
    post-dominators, itself included). A handle with no edge ends a run's path there."""
    bit = {node_id: 1 << index for index, node_id in enumerate(order)}
    leaves = {node_id: set(nodes[node_id].handles) for node_id in order}
    for edge in topology.edges:
        if edge.source in leaves:
            leaves[edge.source].discard(edge_handle(nodes[edge.source], edge))
    dominators: dict[str, int] = {}
    for node_id in reversed(order):
        successors = [nxt for nxt in topology.successors[node_id] if nxt in bit]
        if not successors or leaves[node_id]:
            dominators[node_id] = bit[node_id]  # some path ends here (or right after)
            continue
        common = -1
        for nxt in successors:
            common &= dominators[nxt]
        dominators[node_id] = common | bit[node_id]
    return {"bit": bit, "dominators": dominators}


def _plan_guards(plan: Plan, topology: Topology, order: list[str], entry: Node) -> None:
    nodes = plan.workflow.nodes_by_id
    for node_id in order:
        plan.steps[node_id] = Step(nodes[node_id])
    post = _post_dominators(topology, order, nodes)
    always_runs: set[str] = {entry.id}
    for node_id in order:
        if node_id == entry.id:
            continue
        # Every run through a node that always runs reaches this one: it always runs too (an
        # if-else's branches joining again, say), so it needs no guard.
        mark = post["bit"][node_id]
        if any(post["dominators"][other] & mark for other in always_runs):
            always_runs.add(node_id)
            continue
        # Handles by which each source reaches this node, sources in edge order.
        taken_by: dict[str, set[str]] = {}
        for edge in topology.incoming(node_id):
            source = nodes[edge.source]
            taken_by.setdefault(edge.source, set()).add(edge_handle(source, edge))
        covering = {
            source_id
            for source_id, handles in taken_by.items()
            if set(nodes[source_id].handles) <= handles
        }
        if covering & always_runs:
            always_runs.add(node_id)
            continue
        terms: list[GuardTerm] = []
        for source_id, handles in taken_by.items():
            plan.steps[source_id].records_handle = True
            if source_id in covering:
                terms.append(GuardTerm(source_id, None))
            else:
                ordered = [h for h in nodes[source_id].handles if h in handles]
                terms.append(GuardTerm(source_id, ordered))
        plan.steps[node_id].guard = terms


def _mark_recorded_handles(plan: Plan) -> None:
    for step in plan.steps.values():
        node = step.node
        # An if-else's Choice rules exist to record its handle; a loop's next-round check asks
        # whether a loop-end node ran.
        if isinstance(node, IfElseNode | LoopEndNode):
            step.records_handle = True
        # An aggregator takes the first of its variables whose node ran.
        if isinstance(node, VariableAggregatorNode):
            for selector in node.selectors():
                source = plan.steps.get(selector[0])
                if source is not None and not isinstance(source.node, StartNode):
                    source.records_handle = True


def _may_branch(plan: Plan, group: Collection[str]) -> bool:
    """Whether nodes may run as a Parallel branch: a branch cannot write the variables of what
    runs around it, so an assigner stays in the sequence of the loop whose variables it sets."""
    inside = set(group)
    for node_id in group:
        # A loop's body, and a sequential iteration's that writes conversation variables, run
        # in the scope around them (loop.py, sequential_iteration.py).
        if plan.scopes.containers.get(node_id) in ("loop", "iteration"):
            inside |= set(plan.scopes.descendants(node_id))
    for node_id in inside:
        node = plan.workflow.nodes_by_id[node_id]
        if isinstance(node, AssignerNode) and any(t[0] not in inside for t in node.targets):
            return False
    return True
