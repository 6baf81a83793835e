"""Whole-graph rules, checked all at once so a caller can mark every bad node in one go.

Each rule adds `Issue`s (code, message, node id) and never stops the others: like Dify's graph
validator, a document with five problems reports five issues.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence

from signoff.errors import InvalidInput, Issue
from signoff.graph.inputs import coerce_input
from signoff.graph.issues import IssueCode, issue
from signoff.graph.model import (
    ACTION_ID_OUTPUT,
    CONTAINER_START_TYPES,
    ERROR_OUTPUTS,
    ITERATION_INDEX,
    ITERATION_ITEM,
    SOURCE_HANDLE,
    TARGET_HANDLE,
    TIMEOUT_HANDLE,
    AssignerNode,
    FormInput,
    HumanInputNode,
    IterationNode,
    LoopEndNode,
    LoopNode,
    Node,
    StartNode,
    ToolNode,
    Workflow,
)
from signoff.graph.parsing import NodeSlot
from signoff.graph.scopes import Scopes, find_scopes
from signoff.graph.selectors import (
    CONVERSATION,
    ENV,
    SYS,
    SYS_VARIABLES,
    find_references,
    is_sys,
)
from signoff.graph.topology import Topology

_NODE_ID = re.compile(r"[A-Za-z0-9_-]+")
# A guard state is named "Should run <id>?": ids stay short enough for the 80-character limit.
MAX_NODE_ID_LENGTH = 64
# Ids a node cannot take: the sys selector prefix and the names of the compiler's own states.
RESERVED_NODE_IDS = frozenset({SYS, ENV, CONVERSATION, "Init", "Succeeded", "Failed"})
# The nodes a scope begins at: no edge leads into them.
SCOPE_START_TYPES = frozenset({"start", *CONTAINER_START_TYPES.values()})


def variable_name(node_id: str) -> str:
    """The node id as a state machine variable suffix: every char outside [A-Za-z0-9_] -> `_`."""
    return re.sub(r"[^A-Za-z0-9_]", "_", node_id)


def declared_outputs(node: Node, workflow: Workflow) -> set[str] | None:
    """The output names other nodes may select from this node (None: any name)."""
    if isinstance(node, StartNode):
        return {variable.variable for variable in workflow.inputs}
    names = node.output_names()
    if names is not None and node.error_strategy is not None:
        names = names | set(ERROR_OUTPUTS)
    return names


def validate_workflow(workflow: Workflow, *, tools: Collection[str] | None = None) -> list[Issue]:
    """Every issue of a parsed workflow (an empty list when it can be compiled and run).

    `tools`: the names the deployment's tool registry knows (`<provider_id>/<tool_name>`); a tool
    node naming another is an `unknown_tool` issue. None leaves tools unchecked.
    """
    slots = [NodeSlot(node.id, node.type, node) for node in workflow.nodes]
    return validate_graph(workflow, slots, tools=tools)


def validate_graph(
    workflow: Workflow, slots: Sequence[NodeSlot], *, tools: Collection[str] | None = None
) -> list[Issue]:
    """The graph rules over `slots` (every node of the document, parsed or not)."""
    issues: list[Issue] = []
    issues += _check_inputs(workflow)
    issues += _check_secret_values(workflow)
    issues += _check_node_ids(slots)
    ids = [slot.id for slot in slots if slot.id is not None]
    parsed: dict[str, Node] = {}
    for slot in slots:
        if slot.id is not None and slot.node is not None:
            parsed.setdefault(slot.id, slot.node)  # a repeated id is reported; the first one counts
    scopes = find_scopes((slot.id, slot.type, slot.node) for slot in slots if slot.id is not None)
    issues += _check_containers(slots, parsed, scopes)
    edge_issues, crossing = _check_edges(workflow, set(ids), parsed, scopes)
    issues += edge_issues
    # Edges between scopes are reported once, above, and left out of the graph's shape.
    topology = Topology(ids, [edge for edge in workflow.edges if id(edge) not in crossing])
    starts = [
        slot.id
        for slot in slots
        if slot.type == "start" and slot.id is not None and scopes.scope_of(slot.id) is None
    ]
    issues += _check_start_and_end(slots, starts, scopes)
    issues += _check_reachable(topology, scopes, parsed, starts)
    for cycle in topology.cycles():
        loop = " -> ".join([*cycle, cycle[0]])
        issues += [
            issue(IssueCode.CYCLE, f"node {node_id} is part of a cycle: {loop}", node_id)
            for node_id in cycle
        ]
    visibility = Visibility(workflow, topology, scopes, parsed)
    for node in workflow.nodes:
        issues += _check_selectors(node, visibility)
        issues += _check_error_handling(node, workflow)
        issues += _check_review(node)
        issues += _check_special_selectors(node, visibility)
        if isinstance(node, AssignerNode):
            issues += _check_assignments(node, visibility)
        if isinstance(node, HumanInputNode):
            issues += _check_human_input(node)
        issues += _check_secret_reads(node, workflow)
        if isinstance(node, ToolNode) and tools is not None and node.registry_key not in tools:
            problem = (
                f"node {node.id}: tool {node.registry_key} is not in the deployment's tool registry"
            )
            issues.append(issue(IssueCode.UNKNOWN_TOOL, problem, node.id))
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


def _check_edges(
    workflow: Workflow, ids: set[str], parsed: dict[str, Node], scopes: Scopes
) -> tuple[list[Issue], set[int]]:
    """Issues of every edge, and the (object ids of) edges that cross a scope's boundary."""
    issues: list[Issue] = []
    crossing: set[int] = set()
    for edge in workflow.edges:
        missing = [end for end in (edge.source, edge.target) if end not in ids]
        if missing:
            present = [end for end in (edge.source, edge.target) if end in ids]
            names = " and ".join(missing)
            problem = f"edge {edge.label} points at no node: {names} does not exist"
            node_id = present[0] if present else None
            issues.append(issue(IssueCode.DANGLING_EDGE, problem, node_id, edge.id))
            continue
        source_scope, target_scope = scopes.scope_of(edge.source), scopes.scope_of(edge.target)
        if source_scope != target_scope:
            crossing.add(id(edge))
            problem = (
                f"edge {edge.label} leads from {_scope_name(source_scope)} into "
                f"{_scope_name(target_scope)}: edges stay inside an iteration or loop"
            )
            issues.append(issue(IssueCode.CROSSING_EDGE, problem, edge.target, edge.id))
        target = parsed.get(edge.target)
        if target is not None and target.type in SCOPE_START_TYPES:
            problem = f"edge {edge.label} leads into {target.type} node {edge.target}"
            issues.append(issue(IssueCode.INVALID_EDGE, problem, edge.target, edge.id))
        source = parsed.get(edge.source)
        if source is not None and not _is_handle_of(source, edge.source_handle):
            if source.handles == [SOURCE_HANDLE]:
                problem = (
                    f"edge {edge.label} leaves {source.type} node {edge.source} by handle "
                    f"{edge.source_handle!r}; the handle must be {SOURCE_HANDLE!r}"
                )
            else:
                handles = ", ".join(source.handles) or "none"
                problem = (
                    f"edge {edge.label} leaves {source.type} node {edge.source} by handle "
                    f"{edge.source_handle!r}; its handles are {handles}"
                )
            issues.append(issue(IssueCode.INVALID_HANDLE, problem, edge.source, edge.id))
        if edge.target_handle != TARGET_HANDLE:
            problem = f"edge {edge.label} has target handle {edge.target_handle!r}, not 'target'"
            issues.append(issue(IssueCode.INVALID_HANDLE, problem, edge.target, edge.id))
    return issues, crossing


def _is_handle_of(node: Node, handle: str) -> bool:
    # A fail-branch node's success edge may keep the `source` handle it was drawn with.
    return node.edge_handle(handle) in node.handles


def _scope_name(scope: str | None) -> str:
    return "the top level" if scope is None else f"the inside of {scope}"


def _check_containers(
    slots: Sequence[NodeSlot], parsed: dict[str, Node], scopes: Scopes
) -> list[Issue]:
    """parent_id names a container; each container's start_node_id names its own start node;
    start, end and container-start nodes sit where they belong."""
    issues: list[Issue] = []

    def bad(node_id: str, problem: str) -> None:
        issues.append(issue(IssueCode.INVALID_CONTAINER, f"node {node_id}: {problem}", node_id))

    for node_id, node in parsed.items():
        if node.parent_id is not None and scopes.scope_of(node_id) != node.parent_id:
            bad(node_id, f"parent_id {node.parent_id} names no iteration or loop node")
            continue
        scope = scopes.scope_of(node_id)
        container_type = scopes.containers.get(scope) if scope is not None else None
        if node.type in ("start", "end") and scope is not None:
            bad(node_id, f"a {node.type} node cannot sit inside {scope}")
        if node.type in SCOPE_START_TYPES - {"start"}:
            expected = next(c for c, s in CONTAINER_START_TYPES.items() if s == node.type)
            if container_type != expected:
                bad(node_id, f"a {node.type} node sits directly inside a {expected} node")
        if isinstance(node, LoopEndNode) and container_type != "loop":
            bad(node_id, "a loop-end node sits directly inside a loop node")
        if isinstance(node, IterationNode | LoopNode):
            start_type = CONTAINER_START_TYPES[node.type]
            start = parsed.get(node.start_node_id)
            if start is None or start.type != start_type or start.parent_id != node_id:
                bad(
                    node_id,
                    f"start_node_id {node.start_node_id} must name a {start_type} node whose"
                    f" parent_id is {node_id}",
                )
                continue
            others = [
                member
                for member in scopes.members.get(node_id, [])
                if (parsed.get(member) is not None and parsed[member].type == start_type)
                and member != node.start_node_id
            ]
            for other in others:
                bad(other, f"{node_id} already starts at {node.start_node_id}")
    return issues


def _check_reachable(
    topology: Topology, scopes: Scopes, parsed: dict[str, Node], starts: list[str]
) -> list[Issue]:
    issues: list[Issue] = []
    if not starts:
        return issues  # missing_start says it all
    roots = list(starts)
    # Inside a container whose start is wrong, reachability means nothing: that is reported.
    unrooted: set[str | None] = set()
    for container_id in scopes.containers:
        node = parsed.get(container_id)
        start = (
            parsed.get(node.start_node_id) if isinstance(node, IterationNode | LoopNode) else None
        )
        if start is not None and start.parent_id == container_id:
            roots.append(start.id)
        else:
            unrooted.add(container_id)
    reached = topology.reachable_from(roots)
    # A container's inside is reached only if the container itself is.
    for node_id in topology.node_ids:
        if node_id in reached and any(c not in reached for c in scopes.enclosing(node_id)):
            reached.discard(node_id)
    for node_id in topology.node_ids:
        node = parsed.get(node_id)
        if node is not None and node.type in SCOPE_START_TYPES:
            continue  # a scope begins there; a misplaced one is reported as such
        if scopes.scope_of(node_id) in unrooted or any(
            container in unrooted for container in scopes.enclosing(node_id)
        ):
            continue
        if node_id not in reached:
            where = scopes.scope_of(node_id)
            origin = "the start node" if where is None else f"the start of {where}"
            problem = f"node {node_id} is not reachable from {origin}"
            issues.append(issue(IssueCode.UNREACHABLE_NODE, problem, node_id))
    return issues


def _check_start_and_end(
    slots: Sequence[NodeSlot], starts: list[str], scopes: Scopes
) -> list[Issue]:
    issues: list[Issue] = []
    if not starts:
        issues.append(issue(IssueCode.MISSING_START, "the workflow has no start node"))
    elif len(starts) > 1:
        problem = f"the workflow has {len(starts)} start nodes ({', '.join(starts)}); it needs one"
        issues += [issue(IssueCode.MULTIPLE_START, problem, node_id) for node_id in starts]
    if not any(
        slot.type == "end" and (slot.id is None or scopes.scope_of(slot.id) is None)
        for slot in slots
    ):
        issues.append(issue(IssueCode.MISSING_END, "the workflow has no end node"))
    return issues


class Visibility:
    """Which nodes' values a node may read: what runs before it in its scope, and for each
    container around it, the container's own values and what runs before the container."""

    def __init__(
        self, workflow: Workflow, topology: Topology, scopes: Scopes, parsed: dict[str, Node]
    ) -> None:
        self.workflow = workflow
        self.topology = topology
        self.scopes = scopes
        self.parsed = parsed

    def before(self, node_id: str) -> set[str]:
        """The nodes that run before this one (its scope's upstream and its containers')."""
        found = set(self.topology.upstream.get(node_id, set()))
        for container in self.scopes.enclosing(node_id):
            found |= self.topology.upstream.get(container, set())
        return found

    def check(
        self,
        reader: str,
        selector: list[str],
        spelled: str,
        *,
        before: set[str],
        containers: list[str],
    ) -> str | None:
        """The problem with a selector read by `reader`, or None when it names a value."""
        if is_sys(selector):
            if len(selector) != 2 or selector[1] not in SYS_VARIABLES:
                known = ", ".join(f"sys.{name}" for name in SYS_VARIABLES)
                return f"{spelled} names no system variable (known: {known})"
            return None
        if selector and selector[0] in (ENV, CONVERSATION):
            return self.check_run_variable(selector, spelled)
        if len(selector) < 2:
            return f"{spelled} is not a selector: write [node_id, variable]"
        source_id, output = selector[0], selector[1]
        if source_id not in self.topology.successors:
            return f"{spelled} names node {source_id}, which does not exist"
        source = self.parsed.get(source_id)
        if source_id in containers:
            if source is None:
                return None
            own = container_values(source)
            if output not in own:
                inside = ", ".join(sorted(own)) or "none"
                return (
                    f"{spelled} names {output} of {source_id}, around {reader}; inside it the"
                    f" values are: {inside}"
                )
            return None
        if source_id == reader or source_id not in before:
            return f"{spelled} names node {source_id}, which does not run before {reader}"
        if source is None:
            return None  # that node did not parse; its own issue says why
        outputs = declared_outputs(source, self.workflow)
        if outputs is not None and output not in outputs:
            declared = ", ".join(sorted(outputs)) or "none"
            return (
                f"{spelled} names output {output} of node {source_id}, which declares: {declared}"
            )
        return None

    def check_run_variable(self, selector: list[str], spelled: str) -> str | None:
        """`env.<name>` and `conversation.<name>` name a variable the workflow declares (where a
        secret environment variable may be read is `_check_secret_reads`'s)."""
        scope = selector[0]
        if len(selector) < 2:
            return f"{spelled} is not a selector: write [{scope}, name]"
        if scope == ENV:
            declared = {v.name: v for v in self.workflow.environment_variables}
        else:
            declared = {v.name: v for v in self.workflow.conversation_variables}
        if selector[1] not in declared:
            known = ", ".join(sorted(declared)) or "none"
            kind = "environment" if scope == ENV else "conversation"
            return f"{spelled} names no {kind} variable of the workflow (declared: {known})"
        return None


def _check_secret_values(workflow: Workflow) -> list[Issue]:
    """A secret environment variable's value is never written in the document: it is set through
    the API (PUT /workflows/{id}/secrets/{name}) and lives in the deployment's secret store."""
    return [
        issue(
            IssueCode.SECRET_VALUE_IN_GRAPH,
            f"environment variable {variable.name} is a secret: leave its value out of the"
            f" workflow and set it with PUT /workflows/{{id}}/secrets/{variable.name}",
        )
        for variable in workflow.environment_variables
        if variable.value_type == "secret" and variable.value not in (None, "")
    ]


def _check_secret_reads(node: Node, workflow: Workflow) -> list[Issue]:
    """A secret environment variable is read only by nodes that run in the node function, which
    resolves it and redacts it from what it reports. A node compiled to a native state (if-else,
    end, aggregator, assigner, list-operator, iteration, loop, human-input...) would put the
    value into the execution's state and history."""
    if node.runs_in_node_function:
        return []
    secrets = {v.name for v in workflow.environment_variables if v.value_type == "secret"}
    if not secrets:
        return []
    selectors = list(node.selectors())
    texts = list(node.texts())
    if isinstance(node, LoopNode):
        selectors += node.break_selectors()
        texts += node.break_texts()
    named, _ = _named(selectors, texts)
    read = sorted({s[1] for s, _ in named if len(s) >= 2 and s[0] == ENV and s[1] in secrets})
    return [
        issue(
            IssueCode.SECRET_NOT_READABLE_HERE,
            f"node {node.id} ({node.type}) reads secret environment variable {name}: a"
            f" {node.type} node runs as a state of the state machine, where the value would be"
            " kept in the execution history; read it in a node that runs in the node function"
            " (code, llm, http-request, template-transform, tool...)",
            node.id,
        )
        for name in read
    ]


def container_values(node: Node) -> set[str]:
    """What the nodes inside a container read from it: an iteration's item and index, a loop's
    variables."""
    if isinstance(node, IterationNode):
        return {ITERATION_ITEM, ITERATION_INDEX}
    if isinstance(node, LoopNode):
        return {entry.label for entry in node.loop_variables}
    return set()


def _named(
    selectors: list[list[str]], texts: list[str]
) -> tuple[list[tuple[list[str], str]], list[str]]:
    """(selector, how it is spelled) for selectors and well-formed text references, and the
    malformed references."""
    named = [(selector, f"[{', '.join(selector)}]") for selector in selectors]
    malformed: list[str] = []
    for text in texts:
        for reference in find_references(text):
            if reference.is_well_formed:
                named.append((reference.selector, reference.text))
            else:
                malformed.append(reference.text)
    return named, malformed


def _check_selectors(node: Node, visibility: Visibility) -> list[Issue]:
    issues: list[Issue] = []

    def bad(problem: str) -> None:
        issues.append(issue(IssueCode.BAD_SELECTOR, f"node {node.id}: {problem}", node.id))

    named, malformed = _named(node.selectors(), node.texts())
    for text in malformed:
        bad(f"{text} is not a reference: write {{{{#node_id.variable#}}}}")
    before = visibility.before(node.id)
    containers = visibility.scopes.enclosing(node.id)
    for selector, spelled in named:
        problem = visibility.check(node.id, selector, spelled, before=before, containers=containers)
        if problem:
            bad(problem)
    return issues


def _check_special_selectors(node: Node, visibility: Visibility) -> list[Issue]:
    """Selectors read inside a container rather than before it: an iteration's
    output_selector and a loop's break conditions."""
    issues: list[Issue] = []

    def bad(problem: str) -> None:
        issues.append(issue(IssueCode.BAD_SELECTOR, f"node {node.id}: {problem}", node.id))

    if isinstance(node, IterationNode):
        selector = node.output_selector
        spelled = f"[{', '.join(selector)}]"
        members = set(visibility.scopes.members.get(node.id, []))
        source = visibility.parsed.get(selector[0])
        if selector[0] not in members:
            bad(f"output_selector {spelled} must name a node inside {node.id}")
        elif source is not None:
            outputs = declared_outputs(source, visibility.workflow)
            if outputs is not None and selector[1] not in outputs:
                declared = ", ".join(sorted(outputs)) or "none"
                bad(
                    f"output_selector {spelled} names output {selector[1]} of node"
                    f" {selector[0]}, which declares: {declared}"
                )
    if isinstance(node, LoopNode):
        named, malformed = _named(node.break_selectors(), node.break_texts())
        for text in malformed:
            bad(f"{text} is not a reference: write {{{{#node_id.variable#}}}}")
        # Checked after a round: the loop's own variables, any node inside it, and what runs
        # before the loop.
        before = visibility.before(node.id) | set(visibility.scopes.descendants(node.id))
        containers = [node.id, *visibility.scopes.enclosing(node.id)]
        for selector, spelled in named:
            problem = visibility.check(
                node.id, selector, spelled, before=before, containers=containers
            )
            if problem:
                bad(f"break condition: {problem}")
    return issues


def _check_review(node: Node) -> list[Issue]:
    if not node.reviewed:
        return []
    if not node.runs_in_node_function:
        problem = (
            f"node {node.id}: a {node.type} node has no work of its own to review: review"
            " settings are for nodes that do work"
        )
        return [issue(IssueCode.INVALID_REVIEW, problem, node.id)]
    assert node.review is not None
    if node.review.on_timeout == "default" and not node.default_value:
        problem = (
            f"node {node.id}: review on_timeout default continues with the node's default_value,"
            " and the node has none"
        )
        return [issue(IssueCode.INVALID_REVIEW, problem, node.id)]
    return []


def _check_error_handling(node: Node, workflow: Workflow) -> list[Issue]:
    issues: list[Issue] = []
    if not node.can_fail:
        if node.error_strategy is not None or node.retries:
            problem = (
                f"node {node.id}: a {node.type} node does not fail at run time: error_strategy"
                " and retry_config are for nodes that do work"
            )
            issues.append(issue(IssueCode.INVALID_ERROR_HANDLING, problem, node.id))
        return issues
    if node.default_value and node.error_strategy != "default-value":
        problem = f"node {node.id}: default_value is for error_strategy default-value"
        issues.append(issue(IssueCode.INVALID_DEFAULT_VALUE, problem, node.id))
    outputs = node.output_names()
    if outputs is not None:
        for entry in node.default_value:
            if entry.key not in outputs:
                declared = ", ".join(sorted(outputs)) or "none"
                problem = (
                    f"node {node.id}: default value {entry.key} is not an output of the node"
                    f" (it declares: {declared})"
                )
                issues.append(issue(IssueCode.INVALID_DEFAULT_VALUE, problem, node.id))
    return issues


# Operations by the variable types they apply to.
_NUMBER_OPERATIONS = frozenset({"+=", "-=", "*=", "/="})
_ARRAY_OPERATIONS = frozenset({"append", "extend", "remove-first", "remove-last"})


def _check_assignments(node: AssignerNode, visibility: Visibility) -> list[Issue]:
    issues: list[Issue] = []

    def bad(problem: str) -> None:
        issues.append(issue(IssueCode.INVALID_ASSIGNMENT, f"node {node.id}: {problem}", node.id))

    # Loop variables are assignable from inside their loop, short of an iteration in between
    # (each of its items runs on its own).
    assignable: dict[str, LoopNode] = {}
    for container in visibility.scopes.enclosing(node.id):
        parent = visibility.parsed.get(container)
        if isinstance(parent, LoopNode):
            assignable.setdefault(container, parent)
        elif isinstance(parent, IterationNode):
            break
    # A sequential iteration runs its items one after another, each seeing the writes of those
    # before (compiler/lowering/sequential_iteration.py); a parallel one has no such order.
    parallel_iterations = [
        container
        for container in visibility.scopes.enclosing(node.id)
        if isinstance(parent := visibility.parsed.get(container), IterationNode)
        and parent.is_parallel
    ]
    conversation = {v.name: v for v in visibility.workflow.conversation_variables}
    for item in node.items:
        target = item.variable_selector
        spelled = f"[{', '.join(target)}]"
        if target[0] == CONVERSATION:
            declared = conversation.get(target[1]) if len(target) == 2 else None
            if declared is None:
                known = ", ".join(sorted(conversation)) or "none"
                bad(f"{spelled} names no conversation variable of the workflow (declared: {known})")
                continue
            if parallel_iterations:
                issues.append(
                    issue(
                        IssueCode.UNORDERED_CONVERSATION_WRITE,
                        f"node {node.id}: {spelled} is written inside parallel iteration"
                        f" {parallel_iterations[0]}, whose items run in no defined order: make"
                        " the iteration sequential (is_parallel: false) to write conversation"
                        " variables in it",
                        node.id,
                    )
                )
                continue
            kind = declared.value_type
        else:
            loop = assignable.get(target[0])
            variable = next(
                (v for v in (loop.loop_variables if loop else []) if v.label == target[1]), None
            )
            if variable is None or len(target) != 2:
                bad(f"{spelled} names no loop variable of a loop around {node.id}")
                continue
            kind = variable.var_type
        if item.operation in _NUMBER_OPERATIONS and kind != "number":
            bad(f"{item.operation} applies to number variables; {spelled} is {kind}")
        if item.operation in _ARRAY_OPERATIONS and not kind.startswith("array"):
            bad(f"{item.operation} applies to array variables; {spelled} is {kind}")
        if item.operation == "/=" and item.input_type == "constant" and item.value in (0, 0.0):
            bad(f"{spelled} /= 0 divides by zero")
    return issues


# A user action's id is an edge handle and travels in URLs and JSON: short and plain.
_ACTION_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _check_human_input(node: HumanInputNode) -> list[Issue]:
    """The form a person fills in: named fields, sound selects, distinct user actions, one way
    to say the timeout."""
    issues: list[Issue] = []

    def bad(problem: str, code: IssueCode = IssueCode.INVALID_HUMAN_INPUT) -> None:
        issues.append(issue(code, f"node {node.id}: {problem}", node.id))

    if not node.user_actions:
        bad("a human-input node needs at least one user action (the buttons of its form)")
    seen_actions: set[str] = set()
    for action in node.user_actions:
        if action.id in seen_actions:
            bad(f"user action id {action.id!r} is used twice")
        seen_actions.add(action.id)
        if action.id == TIMEOUT_HANDLE:
            bad(f"user action id {TIMEOUT_HANDLE!r} is reserved for the timeout branch")
        elif not _ACTION_ID.fullmatch(action.id):
            bad(f"user action id {action.id!r} may only hold letters, digits, _ and - (1 to 64)")
    seen_fields: set[str] = set()
    for field in node.inputs:
        name = field.output_variable_name
        if not name.isidentifier():
            bad(f"form input {name!r}: output_variable_name must be an identifier")
        elif name == ACTION_ID_OUTPUT:
            bad(f"form input {name!r}: the name is reserved for the chosen user action")
        elif name in seen_fields:
            bad(f"form input {name!r} is declared twice")
        seen_fields.add(name)
        issues += _check_form_field(node, field)
    if node.timeout is not None and node.timeout_seconds is not None:
        bad("give the timeout once: timeout with timeout_unit, or timeout_seconds")
    return issues


def _check_form_field(node: HumanInputNode, field: FormInput) -> list[Issue]:
    problems: list[str] = []
    name = field.output_variable_name
    if field.type == "select":
        if not field.options:
            problems.append("a select needs options")
        elif len(set(field.options)) != len(field.options):
            problems.append("a select's options must be distinct")
    elif field.options:
        problems.append(f"options are for select inputs, not {field.type}")
    default = field.default
    if default is not None:
        if default.type == "variable" and len(default.selector) < 2:
            problems.append("a variable default needs a selector [node_id, variable]")
        if (
            default.type == "constant"
            and field.type == "select"
            and default.value
            not in (
                "",
                None,
                *field.options,
            )
        ):
            problems.append(f"the default {default.value!r} is not one of the options")
    return [
        issue(IssueCode.INVALID_HUMAN_INPUT, f"node {node.id}: form input {name!r}: {p}", node.id)
        for p in problems
    ]
