"""The codes of the issues a workflow document can have (clients branch on them)."""

from __future__ import annotations

from enum import StrEnum

from signoff.errors import Issue


class IssueCode(StrEnum):
    UNREADABLE_DOCUMENT = "unreadable_document"  # not YAML/JSON, or not a mapping
    INVALID_DOCUMENT = "invalid_document"  # a top-level field (name, nodes...) is wrong
    INVALID_INPUT_VARIABLE = "invalid_input_variable"  # an entry of `inputs`
    UNKNOWN_NODE_TYPE = "unknown_node_type"
    INVALID_NODE = "invalid_node"  # a node's fields do not fit its type
    INVALID_OPERATOR = "invalid_operator"  # an if-else condition's comparison operator
    INVALID_NODE_ID = "invalid_node_id"
    DUPLICATE_NODE_ID = "duplicate_node_id"
    COLLIDING_NODE_ID = "colliding_node_id"  # two ids that name the same state machine variable
    INVALID_EDGE = "invalid_edge"  # an edge's fields
    DANGLING_EDGE = "dangling_edge"
    INVALID_HANDLE = "invalid_handle"
    MISSING_START = "missing_start"
    MULTIPLE_START = "multiple_start"
    MISSING_END = "missing_end"
    UNREACHABLE_NODE = "unreachable_node"
    CYCLE = "cycle"
    BAD_SELECTOR = "bad_selector"


def issue(
    code: IssueCode, message: str, node_id: str | None = None, edge_id: str | None = None
) -> Issue:
    return Issue(code=code.value, message=message, node_id=node_id, edge_id=edge_id)
