"""The one mapping from exceptions to HTTP responses: `{status, code, message, error_code}`.

`error_code` is the numeric code of the seed's families (signoff.errors.ERROR_CODES: 1000
parameters, 2000 authentication, 3000 resources, 4000 execution, 5000 system). No answer carries
a stack trace: an unexpected exception is logged and answered 500 `internal_error`.

Under /v1 (Dify's Service API) the same errors answer in Dify's shape, `{status, code, message}`
(and the numeric `error_code`), with Dify's codes and statuses where Dify names the same error
differently (DIFY_CODES, DIFY_STATUSES): Dify's clients branch on those.
"""

from __future__ import annotations

from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)

from signoff.api.models import ErrorBody, IssueBody
from signoff.errors import (
    GraphInvalid,
    IdempotencyInProgress,
    InvalidInput,
    RateLimited,
    SignoffError,
    error_code_for,
)

logger = Logger(child=True)

# Seconds a client waits before retrying a request whose first copy is still being answered.
_IN_PROGRESS_RETRY_SECONDS = 1


# Requests under this prefix are Dify's Service API: their errors take Dify's shape.
DIFY_PREFIX = "/v1/"
# signoff's error codes that Dify names otherwise; any other code is answered as it is.
DIFY_CODES: dict[str, str] = {
    "invalid_input": "invalid_param",
    "invalid_json": "invalid_param",
    "invalid_graph": "invalid_param",
    "bad_request": "invalid_param",
    "payload_too_large": "file_too_large",
    "unsupported_media_type": "unsupported_file_type",
    "internal_error": "internal_server_error",
    "configuration_error": "internal_server_error",
}


# Statuses Dify answers otherwise for the same error (a closed human-input form is 412 there).
DIFY_STATUSES: dict[str, int] = {
    "human_input_form_submitted": 412,
    "human_input_form_expired": 412,
}


def is_dify_path(path: str | None) -> bool:
    return bool(path) and (path + "/").startswith(DIFY_PREFIX)


def error_response(
    status: int,
    code: str,
    message: str,
    *,
    field: str | None = None,
    issues: list[IssueBody] | None = None,
    headers: dict[str, str] | None = None,
    dify: bool = False,
) -> Response:
    if dify:
        status = DIFY_STATUSES.get(code, status)
        # Dify's fields, plus the numeric error_code every signoff error carries.
        body = {
            "status": int(status),
            "code": DIFY_CODES.get(code, code),
            "message": message,
            "error_code": error_code_for(code, status),
        }
        return Response(
            status_code=status,
            content_type=content_types.APPLICATION_JSON,
            body=body,
            headers=headers,
        )
    body = ErrorBody(
        status=status,
        code=code,
        message=message,
        error_code=error_code_for(code, status),
        field=field,
        issues=issues,
    )
    data = body.model_dump(mode="json", exclude={"field", "issues"})
    if body.field is not None:
        data["field"] = body.field
    if body.issues is not None:
        # Every issue names its node, null for graph-wide ones, so clients can mark nodes.
        data["issues"] = [
            issue.model_dump(mode="json", exclude=None if issue.edge_id else {"edge_id"})
            for issue in body.issues
        ]
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=data,
        headers=headers,
    )


def response_for(error: SignoffError, *, path: str | None = None) -> Response:
    """The answer to a domain error (also used before routing, by signoff.api.gate); `path`,
    the request's, picks Dify's shape under /v1."""
    if error.status >= 500:
        logger.exception("request failed", extra={"code": error.code})
    issues = (
        [IssueBody(**issue.as_dict()) for issue in error.issues]
        if isinstance(error, GraphInvalid)
        else None
    )
    field = error.field if isinstance(error, InvalidInput) else None
    headers: dict[str, str] = {}
    if isinstance(error, RateLimited):
        headers["Retry-After"] = str(error.retry_after)
    elif isinstance(error, IdempotencyInProgress):
        headers["Retry-After"] = str(_IN_PROGRESS_RETRY_SECONDS)
    # An internal failure's message may name internals (settings, tables): answer with its
    # code only. Other 5xx (an upstream service refusing) are written for the client.
    message = _internal_message(error) if error.status == 500 else error.message
    return error_response(
        error.status,
        error.code,
        message,
        field=field,
        issues=issues,
        headers=headers or None,
        dify=is_dify_path(path),
    )


def register_error_handlers(app: APIGatewayRestResolver) -> None:
    def dify() -> bool:
        return is_dify_path(app.current_event.path)

    @app.exception_handler(SignoffError)
    def signoff_error(error: SignoffError) -> Response:
        return response_for(error, path=app.current_event.path)

    @app.exception_handler(RequestValidationError)
    def request_invalid(error: RequestValidationError) -> Response:
        problems = list(error.errors())
        first = problems[0] if problems else {}
        if first.get("type") == "json_invalid":
            return error_response(
                400, "invalid_json", "the request body is not valid JSON", dify=dify()
            )
        field = _field_name(first.get("loc", ()))
        reason = first.get("msg") or "is invalid"
        message = f"{field}: {reason}" if field else reason
        return error_response(400, InvalidInput.code, message, field=field, dify=dify())

    @app.exception_handler(RequestUnsupportedContentType)
    def unsupported_content_type(error: RequestUnsupportedContentType) -> Response:
        return error_response(
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the request body as application/json",
            dify=dify(),
        )

    @app.not_found
    def route_not_found(error: NotFoundError) -> Response:
        event = app.current_event
        return error_response(
            404, "not_found", f"no route for {event.http_method} {event.path}", dify=dify()
        )

    @app.exception_handler(Exception)
    def unexpected(error: Exception) -> Response:
        logger.exception("unhandled error")
        return error_response(500, "internal_error", "an internal error occurred", dify=dify())


def _internal_message(error: SignoffError) -> str:
    return f"the request could not be completed ({error.code})"


def _field_name(location: Sequence[Any]) -> str | None:
    """`("body", "inputs", "name")` -> `inputs.name`; the path and query names stay as they are."""
    parts = [str(part) for part in location]
    if parts and parts[0] in {"body", "path", "query", "header"}:
        parts = parts[1:]
    return ".".join(parts) or None
