"""A workflow document (dict) to a `Workflow`, one part at a time, keeping every schema issue.

A node that does not parse (an unknown type, a bad field) is reported and left out of the model,
but its id is kept as a `NodeSlot` so that graph validation neither calls its edges dangling nor
loses sight of the rest of the graph.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from signoff.errors import Issue
from signoff.graph.issues import IssueCode, issue
from signoff.graph.model import (
    MAX_TIMEOUT_SECONDS,
    NODE_TYPES,
    ConversationVariable,
    Edge,
    EnvironmentVariable,
    InputVariable,
    Node,
    Note,
    Workflow,
    parse_node,
)

_DOCUMENT_FIELDS = (
    "name",
    "description",
    "timeout_seconds",
    "inputs",
    "nodes",
    "edges",
    "notes",
    "environment_variables",
    "conversation_variables",
)
# Declarations beside the graph, each a list of one model (Dify's notes and variables).
_DECLARATIONS: dict[str, type[BaseModel]] = {
    "notes": Note,
    "environment_variables": EnvironmentVariable,
    "conversation_variables": ConversationVariable,
}


@dataclass(frozen=True)
class NodeSlot:
    """A node as the document lists it: its id and type, and its model when it parsed."""

    id: str | None
    type: str | None
    node: Node | None


@dataclass
class ParsedDocument:
    workflow: Workflow
    slots: list[NodeSlot]
    issues: list[Issue]


def _field_path(location: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in location)


def _describe(error: dict[str, Any], prefix: str = "") -> tuple[str, str]:
    """(field path, "field: message") for one pydantic error."""
    path = _field_path(error["loc"])
    field = f"{prefix}.{path}" if prefix and path else prefix or path
    message = str(error["msg"]).removeprefix("Value error, ")
    return field, f"{field}: {message}" if field else message


def _parse_node(data: Any, position: int) -> tuple[NodeSlot, list[Issue]]:
    if not isinstance(data, dict):
        problem = f"nodes.{position}: a node must be a mapping"
        return NodeSlot(None, None, None), [issue(IssueCode.INVALID_NODE, problem)]
    raw_id, raw_type = data.get("id"), data.get("type")
    if isinstance(raw_id, int) and not isinstance(raw_id, bool):
        raw_id = str(raw_id)  # as the model reads it
    node_id = raw_id if isinstance(raw_id, str) and raw_id else None
    node_type = raw_type if isinstance(raw_type, str) else None
    if node_type is None:
        problem = f"node {node_id or f'#{position}'}: type is required"
        return NodeSlot(node_id, None, None), [issue(IssueCode.INVALID_NODE, problem, node_id)]
    if node_type not in NODE_TYPES:
        known = ", ".join(NODE_TYPES)
        problem = (
            f"node {node_id or f'#{position}'} has unknown type {node_type!r} (known: {known})"
        )
        slot = NodeSlot(node_id, node_type, None)
        return slot, [issue(IssueCode.UNKNOWN_NODE_TYPE, problem, node_id)]
    try:
        node = parse_node(data)
    except ValidationError as error:
        issues = []
        for detail in error.errors():
            # The discriminated union puts the type tag first in the location; drop it.
            location = tuple(detail["loc"])
            if location[:1] == (node_type,):
                location = location[1:]
            _, message = _describe({**detail, "loc": location})
            code = _code_for(location)
            issues.append(issue(code, f"node {node_id or f'#{position}'}: {message}", node_id))
        return NodeSlot(node_id, node_type, None), issues
    return NodeSlot(node.id, node.type, node), []


def _code_for(location: tuple[Any, ...]) -> IssueCode:
    """The issue code of a node field's schema error, by where in the node it lies."""
    if location[-1:] == ("comparison_operator",):
        return IssueCode.INVALID_OPERATOR
    if location[:1] == ("retry_config",):
        return IssueCode.INVALID_RETRY
    if location[:1] == ("default_value",):
        return IssueCode.INVALID_DEFAULT_VALUE
    if location[:1] == ("review",):
        return IssueCode.INVALID_REVIEW
    return IssueCode.INVALID_NODE


def _parse_each(
    items: Any,
    name: str,
    parse: Callable[[Any, int], tuple[Any, list[Issue]]],
) -> tuple[list[Any], list[Issue]]:
    if items is None:
        return [], []
    if not isinstance(items, list):
        return [], [issue(IssueCode.INVALID_DOCUMENT, f"{name}: must be a list")]
    parsed, issues = [], []
    for position, item in enumerate(items):
        value, found = parse(item, position)
        issues += found
        if value is not None:
            parsed.append(value)
    return parsed, issues


def _parse_model(
    model: type[BaseModel], code: IssueCode, prefix: str
) -> Callable[[Any, int], tuple[Any, list[Issue]]]:
    def parse(data: Any, position: int) -> tuple[Any, list[Issue]]:
        try:
            return model.model_validate(data), []
        except ValidationError as error:
            messages = [_describe(detail, f"{prefix}.{position}")[1] for detail in error.errors()]
            return None, [issue(code, message) for message in messages]

    return parse


def _parse_edge(data: Any, position: int) -> tuple[Edge | None, list[Issue]]:
    edge, issues = _parse_model(Edge, IssueCode.INVALID_EDGE, "edges")(data, position)
    if issues and isinstance(data, dict):
        # Tie the issue to the edge's source node, so an editor can mark where the edge starts.
        source, edge_id = data.get("source"), data.get("id")
        issues = [
            issue(
                IssueCode.INVALID_EDGE,
                found.message,
                source if isinstance(source, str) else None,
                edge_id if isinstance(edge_id, str) else None,
            )
            for found in issues
        ]
    return edge, issues


def parse_document(document: Any) -> ParsedDocument:
    """Every part of the document that parses, and an issue for every part that does not."""
    if not isinstance(document, dict):
        problem = "a workflow document must be a mapping with name, inputs, nodes and edges"
        empty = Workflow.model_construct(
            name="", description="", timeout_seconds=None, inputs=[], nodes=[], edges=[]
        )
        return ParsedDocument(empty, [], [issue(IssueCode.UNREADABLE_DOCUMENT, problem)])

    issues: list[Issue] = []
    for key in document:
        if key not in _DOCUMENT_FIELDS:
            allowed = ", ".join(_DOCUMENT_FIELDS)
            problem = f"{key}: unknown field (a workflow has {allowed})"
            issues.append(issue(IssueCode.INVALID_DOCUMENT, problem))

    name, description = document.get("name"), document.get("description", "")
    if not isinstance(name, str) or not name.strip():
        issues.append(issue(IssueCode.INVALID_DOCUMENT, "name: a non-empty string is required"))
        name = name if isinstance(name, str) else ""
    if not isinstance(description, str):
        issues.append(issue(IssueCode.INVALID_DOCUMENT, "description: must be a string"))
        description = ""

    timeout_seconds = document.get("timeout_seconds")
    if timeout_seconds is not None and (
        not isinstance(timeout_seconds, int)
        or isinstance(timeout_seconds, bool)
        or not 1 <= timeout_seconds <= MAX_TIMEOUT_SECONDS
    ):
        problem = f"timeout_seconds: a whole number of seconds from 1 to {MAX_TIMEOUT_SECONDS}"
        issues.append(issue(IssueCode.INVALID_DOCUMENT, problem))
        timeout_seconds = None

    inputs, found = _parse_each(
        document.get("inputs"),
        "inputs",
        _parse_model(InputVariable, IssueCode.INVALID_INPUT_VARIABLE, "inputs"),
    )
    issues += found
    slots, found = _parse_each(document.get("nodes"), "nodes", _parse_node)
    issues += found
    edges, found = _parse_each(document.get("edges"), "edges", _parse_edge)
    issues += found
    declarations: dict[str, list[Any]] = {}
    for field, model in _DECLARATIONS.items():
        parse = _parse_model(model, IssueCode.INVALID_DOCUMENT, field)
        declarations[field], found = _parse_each(document.get(field), field, parse)
        issues += found

    workflow = Workflow.model_construct(
        name=name,
        description=description,
        timeout_seconds=timeout_seconds,
        inputs=inputs,
        nodes=[slot.node for slot in slots if slot.node is not None],
        edges=edges,
        **declarations,
    )
    return ParsedDocument(workflow, slots, issues)
