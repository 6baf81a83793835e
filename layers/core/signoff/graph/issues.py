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
    INVALID_CONTAINER = "invalid_container"  # parent_id, start_node_id, or a node out of place
    CROSSING_EDGE = "crossing_edge"  # an edge between two scopes (into or out of a container)
    INVALID_ERROR_HANDLING = "invalid_error_handling"  # error_strategy/retry where nothing fails
    INVALID_DEFAULT_VALUE = "invalid_default_value"  # a default_value entry
    INVALID_RETRY = "invalid_retry"  # retry_config outside Dify's bounds
    UNKNOWN_TOOL = "unknown_tool"  # a tool the deployment's registry does not know
    INVALID_ASSIGNMENT = "invalid_assignment"  # an assigner's target or operation
    INVALID_REVIEW = "invalid_review"  # review settings out of bounds, or on a node without outputs
    # a human-input node's form: its fields, options, user actions or timeout
    INVALID_HUMAN_INPUT = "invalid_human_input"
    # a secret environment variable read where its value would enter the execution history (a
    # node compiled to a native state), or written with its value into the document
    SECRET_NOT_READABLE_HERE = "secret_not_readable_here"
    SECRET_VALUE_IN_GRAPH = "secret_value_in_graph"
    # an assigner inside a parallel iteration writing a conversation variable (no defined order)
    UNORDERED_CONVERSATION_WRITE = "unordered_conversation_write"


def issue(
    code: IssueCode, message: str, node_id: str | None = None, edge_id: str | None = None
) -> Issue:
    return Issue(code=code.value, message=message, node_id=node_id, edge_id=edge_id)
