"""The codes of the issues a Dify DSL import reports (beside the native graph's own codes)."""

from __future__ import annotations

from enum import StrEnum

from signoff.errors import Issue


class DifyIssueCode(StrEnum):
    NOT_A_DIFY_APP = "dify_not_an_app"  # no `app`/`workflow.graph`, or `kind` is not `app`
    UNSUPPORTED_APP_MODE = "dify_unsupported_app_mode"  # chat, advanced-chat, agent-chat...
    INVALID_VERSION = "dify_invalid_version"  # `version` is not a DSL version (x.y.z)
    UNSUPPORTED_FEATURE = "dify_unsupported_feature"  # an app feature or a node setting in use
    UNSUPPORTED_NODE_TYPE = "dify_unsupported_node_type"  # answer, agent, datasource...
    UNSUPPORTED_SETTING = "dify_unsupported_setting"  # a node field signoff does not know
    UNSUPPORTED_INPUT_TYPE = "dify_unsupported_input_type"  # a start variable's type
    INVALID_NODE = "dify_invalid_node"  # a node without id or data
    INVALID_EDGE = "dify_invalid_edge"  # an edge without source or target


def dify_issue(code: DifyIssueCode, message: str, node_id: str | None = None) -> Issue:
    return Issue(code=code.value, message=message, node_id=node_id)
