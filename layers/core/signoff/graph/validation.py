"""Whole-graph rules, checked all at once so a caller can mark every bad node in one go.

Each rule adds `Issue`s (code, message, node id) and never stops the others: like Dify's graph
validator, a document with five problems reports five issues.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from signoff.errors import InvalidInput, Issue
from signoff.graph.inputs import coerce_input
from signoff.graph.issues import IssueCode, issue
from signoff.graph.model import (
    SOURCE_HANDLE,
    TARGET_HANDLE,
    CodeNode,
    IfElseNode,
    Node,
    StartNode,
    TemplateTransformNode,
    Workflow,
)
from signoff.graph.parsing import NodeSlot
from signoff.graph.selectors import SYS, SYS_VARIABLES, find_references, is_sys
from signoff.graph.topology import Topology

_NODE_ID = re.compile(r"[A-Za-z0-9_-]+")
# A guard state is named "Should run <id>?": ids stay short enough for the 80-character limit.
MAX_NODE_ID_LENGTH = 64
# Ids a node cannot take: the sys selector prefix and the names of the compiler's own states.
RESERVED_NODE_IDS = frozenset({SYS, "Init", "Succeeded", "Failed"})


def variable_name(node_id: str) -> str:
    """The node id as a state machine variable suffix: every char outside [A-Za-z0-9_] -> `_`."""
    return re.sub(r"[^A-Za-z0-9_]", "_", node_id)


def declared_outputs(node: Node, workflow: Workflow) -> set[str]:
    """The output names other nodes may select from this node."""
    if isinstance(node, StartNode):
        return {variable.variable for variable in workflow.inputs}
    if isinstance(node, CodeNode):
        return set(node.outputs)
    if isinstance(node, TemplateTransformNode):
        return {"output"}
    return set()


def validate_workflow(workflow: Workflow) -> list[Issue]:
    """Every issue of a parsed workflow (an empty list when it can be compiled and run)."""
    slots = [NodeSlot(node.id, node.type, node) for node in workflow.nodes]
    return validate_graph(workflow, slots)


def validate_graph(workflow: Workflow, slots: Sequence[NodeSlot]) -> list[Issue]:
    """The graph rules over `slots` (every node of the document, parsed or not)."""
    issues: list[Issue] = []
    issues += _check_inputs(workflow)
    issues += _check_node_ids(slots)
    ids = [slot.id for slot in slots if slot.id is not None]
    topology = Topology(ids, workflow.edges)
    parsed: dict[str, Node] = {}
    for slot in slots:
        if slot.id is not None and slot.node is not None:
            parsed.setdefault(slot.id, slot.node)  # a repeated id is reported; the first one counts
    issues += _check_edges(workflow, set(ids), parsed)
    starts = [slot.id for slot in slots if slot.type == "start" and slot.id is not None]
    issues += _check_start_and_end(slots, starts)
    if starts:
        reached = topology.reachable_from(starts)
        issues += [
            issue(
                IssueCode.UNREACHABLE_NODE,
                f"node {node_id} is not reachable from the start node",
                node_id,
            )
            for node_id in topology.node_ids
            if node_id not in reached
        ]
    for cycle in topology.cycles():
        loop = " -> ".join([*cycle, cycle[0]])
        issues += [
            issue(IssueCode.CYCLE, f"node {node_id} is part of a cycle: {loop}", node_id)
            for node_id in cycle
        ]
    for node in workflow.nodes:
        issues += _check_selectors(node, workflow, topology, parsed)
    return issues


def _check_inputs(workflow: Workflow) -> list[Issue]:
    issues: list[Issue] = []
    seen: set[str] = set()
    for variable in workflow.inputs:
        if variable.variable in seen:
            problem = f"input {variable.variable} is declared twice"
            issues.append(issue(IssueCode.INVALID_INPUT_VARIABLE, problem))
        seen.add(variable.variable)
        if variable.default is not None and variable.default != "":
            try:
                coerce_input(variable, variable.default)
            except InvalidInput as error:
                problem = f"the default of input {variable.variable} does not fit: {error.message}"
                issues.append(issue(IssueCode.INVALID_INPUT_VARIABLE, problem))
    return issues


def _check_node_ids(slots: Sequence[NodeSlot]) -> list[Issue]:
    issues: list[Issue] = []
    seen: set[str] = set()
    variables: dict[str, str] = {}
    for slot in slots:
        node_id = slot.id
        if node_id is None:
            continue  # parsing reported the missing id with the node's other schema issues
        if node_id in seen:
            problem = f"node id {node_id} is used by more than one node"
            issues.append(issue(IssueCode.DUPLICATE_NODE_ID, problem, node_id))
            continue
        seen.add(node_id)
        if not _NODE_ID.fullmatch(node_id):
            problem = f"node id {node_id!r} may only hold letters, digits, _ and -"
            issues.append(issue(IssueCode.INVALID_NODE_ID, problem, node_id))
            continue
        if len(node_id) > MAX_NODE_ID_LENGTH:
            problem = f"node id {node_id} is longer than {MAX_NODE_ID_LENGTH} characters"
            issues.append(issue(IssueCode.INVALID_NODE_ID, problem, node_id))
            continue
        if node_id in RESERVED_NODE_IDS:
            problem = f"node id {node_id} is reserved"
            issues.append(issue(IssueCode.INVALID_NODE_ID, problem, node_id))
            continue
        name = variable_name(node_id)
        if name in variables:
            problem = (
                f"node ids {variables[name]} and {node_id} both become the variable name {name}"
                " (every character outside letters, digits and _ turns into _)"
            )
            issues.append(issue(IssueCode.COLLIDING_NODE_ID, problem, node_id))
        else:
            variables[name] = node_id
    return issues


def _check_edges(workflow: Workflow, ids: set[str], parsed: dict[str, Node]) -> list[Issue]:
    issues: list[Issue] = []
    for edge in workflow.edges:
        missing = [end for end in (edge.source, edge.target) if end not in ids]
        if missing:
            present = [end for end in (edge.source, edge.target) if end in ids]
            names = " and ".join(missing)
            problem = f"edge {edge.label} points at no node: {names} does not exist"
            node_id = present[0] if present else None
            issues.append(issue(IssueCode.DANGLING_EDGE, problem, node_id, edge.id))
            continue
        source = parsed.get(edge.source)
        if isinstance(source, IfElseNode):
            if edge.source_handle not in source.handles:
                handles = ", ".join(source.handles)
                problem = (
                    f"edge {edge.label} leaves if-else node {edge.source} by handle "
                    f"{edge.source_handle!r}; its handles are {handles}"
                )
                issues.append(issue(IssueCode.INVALID_HANDLE, problem, edge.source, edge.id))
        elif source is not None and edge.source_handle != SOURCE_HANDLE:
            problem = (
                f"edge {edge.label} leaves {source.type} node {edge.source} by handle "
                f"{edge.source_handle!r}; only if-else nodes branch, the handle must be "
                f"{SOURCE_HANDLE!r}"
            )
            issues.append(issue(IssueCode.INVALID_HANDLE, problem, edge.source, edge.id))
        if edge.target_handle != TARGET_HANDLE:
            problem = f"edge {edge.label} has target handle {edge.target_handle!r}, not 'target'"
            issues.append(issue(IssueCode.INVALID_HANDLE, problem, edge.target, edge.id))
    return issues


def _check_start_and_end(slots: Sequence[NodeSlot], starts: list[str]) -> list[Issue]:
    issues: list[Issue] = []
    if not starts:
        issues.append(issue(IssueCode.MISSING_START, "the workflow has no start node"))
    elif len(starts) > 1:
        problem = f"the workflow has {len(starts)} start nodes ({', '.join(starts)}); it needs one"
        issues += [issue(IssueCode.MULTIPLE_START, problem, node_id) for node_id in starts]
    if not any(slot.type == "end" for slot in slots):
        issues.append(issue(IssueCode.MISSING_END, "the workflow has no end node"))
    return issues


def _check_selectors(
    node: Node, workflow: Workflow, topology: Topology, parsed: dict[str, Node]
) -> list[Issue]:
    issues: list[Issue] = []

    def bad(problem: str) -> None:
        issues.append(issue(IssueCode.BAD_SELECTOR, f"node {node.id}: {problem}", node.id))

    named = [(selector, f"[{', '.join(selector)}]") for selector in node.selectors()]
    for text in node.texts():
        for reference in find_references(text):
            if reference.is_well_formed:
                named.append((reference.selector, reference.text))
            else:
                bad(f"{reference.text} is not a reference: write {{{{#node_id.variable#}}}}")

    upstream = topology.upstream.get(node.id, set())
    for selector, spelled in named:
        if is_sys(selector):
            if len(selector) != 2 or selector[1] not in SYS_VARIABLES:
                known = ", ".join(f"sys.{name}" for name in SYS_VARIABLES)
                bad(f"{spelled} names no system variable (known: {known})")
            continue
        source_id, output = selector[0], selector[1]
        if source_id not in topology.successors:
            bad(f"{spelled} names node {source_id}, which does not exist")
            continue
        if source_id == node.id or source_id not in upstream:
            bad(f"{spelled} names node {source_id}, which does not run before {node.id}")
            continue
        source = parsed.get(source_id)
        if source is None:
            continue  # that node did not parse; its own issue says why
        outputs = declared_outputs(source, workflow)
        if output not in outputs:
            declared = ", ".join(sorted(outputs)) or "none"
            bad(f"{spelled} names output {output} of node {source_id}, which declares: {declared}")
    return issues
