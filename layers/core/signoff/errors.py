"""Typed errors of the domain. The API maps each to one HTTP response in one place (api/errors.py).

`code` is the machine-readable name clients branch on; `status` the HTTP status it answers with.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar


class SignoffError(Exception):
    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"

    def __init__(self, message: str, *, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class ConfigurationError(SignoffError):
    status = 500
    code = "configuration_error"


class InvalidInput(SignoffError):
    """Bad request input; `field` names the offending field (dotted path) when there is one."""

    status = 400
    code = "invalid_input"

    def __init__(self, message: str, *, field: str | None = None, details: Any = None) -> None:
        super().__init__(message, details=details)
        self.field = field


@dataclass(frozen=True)
class Issue:
    """One problem found in a workflow graph, tied to the node (or edge) it concerns."""

    code: str
    message: str
    node_id: str | None = None
    edge_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"code": self.code, "message": self.message, "node_id": self.node_id}
        if self.edge_id is not None:
            data["edge_id"] = self.edge_id
        return data


class GraphInvalid(SignoffError):
    """A workflow graph with one or more issues; every issue is listed, not only the first."""

    status = 400
    code = "invalid_graph"

    def __init__(self, issues: list[Issue]) -> None:
        count = len(issues)
        super().__init__(
            f"the workflow graph has {count} issue{'s' if count != 1 else ''}",
            details=[issue.as_dict() for issue in issues],
        )
        self.issues = issues


class Unauthorized(SignoffError):
    status = 401
    code = "unauthorized"


class Forbidden(SignoffError):
    status = 403
    code = "forbidden"


class NotFound(SignoffError):
    """Also the answer for another tenant's resource: existence is never leaked."""

    status = 404
    code = "not_found"


class Conflict(SignoffError):
    status = 409
    code = "conflict"


class NodeExecutionError(SignoffError):
    """A node failed at run time; its class name is the error type Retry and Catch match."""

    status = 500
    code = "node_failed"
