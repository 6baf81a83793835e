"""Who a request acts for: the authorizer's context, as API Gateway hands it to the api function."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Request
from aws_lambda_powertools.event_handler.depends import Depends

from signoff.auth import Principal
from signoff.errors import Unauthorized


def current_principal(request: Request) -> Principal:
    # The api function trusts this context: only the gateway's authorizer can set it.
    request_context = request.resolved_event.raw_event.get("requestContext") or {}
    authorizer = request_context.get("authorizer") or {}
    tenant_id = authorizer.get("tenant_id")
    if not tenant_id:
        raise Unauthorized("A valid API key is required: send Authorization: Bearer <key>.")
    return Principal(
        tenant_id=str(tenant_id),
        key_id=str(authorizer.get("key_id") or ""),
        role=str(authorizer.get("role") or ""),
    )


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
