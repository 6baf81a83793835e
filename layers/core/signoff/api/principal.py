"""Who a request acts for: the authorizer's context, as API Gateway hands it to the api function."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Request
from aws_lambda_powertools.event_handler.depends import Depends

from signoff.auth.principal import Principal
from signoff.errors import Unauthorized

_MISSING = "A valid API key is required: send Authorization: Bearer <key>."


def principal_from_event(event: Mapping[str, Any]) -> Principal | None:
    """The principal of a proxy event, None when no authorizer ran (a public route).

    The api function trusts this context: only the gateway's authorizer can set it. API Gateway
    caches the authorizer's answer, so a key or token that expired since is refused here.
    """
    request_context = event.get("requestContext") or {}
    context = request_context.get("authorizer") or {}
    if not context.get("tenant_id") and context.get("role") != "operator":
        return None
    principal = Principal.from_context(context)
    if principal.expires_at is not None and principal.expires_at <= time.time():
        raise Unauthorized("this API key or token has expired")
    return principal


def current_principal(request: Request) -> Principal:
    principal = principal_from_event(request.resolved_event.raw_event)
    if principal is None:
        raise Unauthorized(_MISSING)
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
