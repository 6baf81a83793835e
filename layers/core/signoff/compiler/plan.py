"""The schedule of a compiled workflow: nodes in a topological order, each with its guard.

The state machine walks every node of the graph once, in order. A node that does not always run
gets a guard: it runs iff one of its incoming edges was taken, that is, the edge's source ran and
left by the edge's handle. Every node that some guard asks about records the handle it left by in
`$r_<node>` (`source` for a non-branching node, a case id or `false` for an if-else), which stays
null when the node is skipped: "ran" never depends on what a node output, which may be null.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from signoff.compiler import jsonata
from signoff.graph.model import SOURCE_HANDLE, IfElseNode, Node, StartNode, Workflow
from signoff.graph.topology import Topology


@dataclass
class Step:
    node: Node
    # JSONata condition of the guard; None when the node provably always runs.
    guard: str | None = None
    # Whether this node must record the handle it leaves by (some guard reads it).
    records_handle: bool = False

    @property
    def state_name(self) -> str:
        return self.node.id

    @property
    def guard_state_name(self) -> str:
        return f"Should run {self.node.id}?"

    @property
    def entry_state_name(self) -> str:
        return self.guard_state_name if self.guard else self.state_name


@dataclass
class Plan:
    workflow: Workflow
    start: StartNode
    steps: list[Step] = field(default_factory=list)


def _handles(node: Node) -> list[str]:
    return node.handles if isinstance(node, IfElseNode) else [SOURCE_HANDLE]


def plan_workflow(workflow: Workflow) -> Plan:
    """The schedule of a valid workflow (see `signoff.graph.validate_workflow`)."""
    nodes = workflow.nodes_by_id
    start = next(node for node in workflow.nodes if isinstance(node, StartNode))
    topology = Topology(nodes, workflow.edges)
    order = topology.topological_order([start.id])
    steps = {node_id: Step(nodes[node_id]) for node_id in order}
    always_runs: set[str] = {start.id}

    for node_id in order:
        if node_id == start.id:
            continue
        # Handles by which each source reaches this node, sources in edge order.
        taken_by: dict[str, set[str]] = {}
        for edge in topology.incoming(node_id):
            taken_by.setdefault(edge.source, set()).add(edge.source_handle)
        covering = {
            source_id
            for source_id, handles in taken_by.items()
            if set(_handles(nodes[source_id])) <= handles
        }
        if covering & always_runs:
            always_runs.add(node_id)
            continue
        terms: list[str] = []
        for source_id, handles in taken_by.items():
            steps[source_id].records_handle = True
            variable = jsonata.handle_taken(source_id)
            if source_id in covering:
                terms.append(f"{variable} != null")
            elif len(handles) == 1:
                terms.append(f"{variable} = {jsonata.literal(next(iter(handles)))}")
            else:
                chosen = [h for h in _handles(nodes[source_id]) if h in handles]
                terms.append(f"{variable} in {jsonata.literal(chosen)}")
        steps[node_id].guard = " or ".join(terms)

    # An if-else node always records its handle: its Choice rules exist to assign it.
    for step in steps.values():
        if isinstance(step.node, IfElseNode):
            step.records_handle = True
    return Plan(workflow, start, [steps[node_id] for node_id in order])
