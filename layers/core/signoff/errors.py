"""Typed errors of the domain. The API maps each to one HTTP response in one place (api/errors.py).

`code` is the machine-readable name clients branch on; `status` the HTTP status it answers with.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, ClassVar


class ErrorFamily(IntEnum):
    """The numeric families of `error_code` (the seed's error code table); each family's own
    number is its generic error, and specific errors count up from it."""

    PARAMETERS = 1000
    AUTHENTICATION = 2000
    RESOURCES = 3000
    EXECUTION = 4000
    SYSTEM = 5000


# Every `code` the API answers with, and its numeric `error_code`. A code missing here gets its
# family's generic number from its HTTP status (error_code_for), so a new error is never unnumbered.
ERROR_CODES: dict[str, int] = {
    "invalid_input": 1000,
    "invalid_json": 1001,
    "invalid_graph": 1002,
    "payload_too_large": 1003,
    "unsupported_media_type": 1004,
    "idempotency_key_reused": 1005,
    "bad_request": 1000,
    "unauthorized": 2000,
    "forbidden": 2001,
    "too_many_requests": 2002,
    "not_found": 3000,
    "conflict": 3001,
    "idempotency_in_progress": 3002,
    "node_failed": 4000,
    "run_start_failed": 4001,
    "internal_error": 5000,
    "configuration_error": 5001,
    "gateway_timeout": 5002,
}


def error_code_for(code: str, status: int) -> int:
    """The numeric error code of an error `code` answered with HTTP `status`."""
    if code in ERROR_CODES:
        return ERROR_CODES[code]
    if status in (401, 403, 407, 429):
        return ErrorFamily.AUTHENTICATION
    if status in (404, 409, 410, 412, 423):
        return ErrorFamily.RESOURCES
    if 400 <= status < 500:
        return ErrorFamily.PARAMETERS
    return ErrorFamily.SYSTEM


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


# --- human-input forms (signoff.reviews.forms): a form takes one submission, while it is open.
class FormSubmitted(Conflict):
    """The form was submitted already: a form takes exactly one submission."""

    code = "human_input_form_submitted"


class FormExpired(Conflict):
    """The form is closed without a submission: its time ran out, or its run stopped."""

    code = "human_input_form_expired"


class NodeExecutionError(SignoffError):
    """A node failed at run time; its class name is the error type Retry and Catch match."""

    status = 500
    code = "node_failed"


class PayloadTooLarge(SignoffError):
    status = 413
    code = "payload_too_large"


class InvalidJson(InvalidInput):
    code = "invalid_json"


class UnsupportedMediaType(SignoffError):
    status = 415
    code = "unsupported_media_type"


class RateLimited(SignoffError):
    """Past a key's or a tenant's request rate; the client may retry after `retry_after` s."""

    status = 429
    code = "too_many_requests"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))


class IdempotencyKeyReused(SignoffError):
    """An Idempotency-Key sent again with another request than the one it first came with."""

    status = 422
    code = "idempotency_key_reused"


class IdempotencyInProgress(SignoffError):
    """The first request with this Idempotency-Key is still being answered."""

    status = 409
    code = "idempotency_in_progress"
