"""What each kind of caller may do, route by route: the one place the API decides 403.

- a tenant's admin key: every route of its tenant, none of the operator's;
- the operator key: the operator's routes (/tenants); the local cloud's dev key is also the
  default tenant's admin key, so it has both;
- an app key (one workflow): the /v1 routes and the routes of its workflow and of that
  workflow's runs, listed in APP_ROUTES; anything else is 403;
- a token: exactly the routes its scopes name (TOKEN_ROUTES);
- a route nobody listed is an admin route: a new route is closed to app keys and tokens until it
  is listed here.

Tenant isolation comes first: every lookup is scoped by the caller's tenant, so another tenant's
resource is 404 (it does not exist here) before any 403 is considered.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware

from signoff.api.principal import principal_from_event
from signoff.auth.principal import APP, OPERATOR, TOKEN, Principal
from signoff.auth.scopes import granted
from signoff.errors import Forbidden, Unauthorized

# Routes the gateway serves without credentials (template.yaml: Auth: NONE).
PUBLIC_ROUTES = frozenset(
    {
        ("GET", "/health"),
        ("GET", "/openapi.json"),
        ("GET", "/docs"),
        ("GET", "/docs/<asset>"),
        # The lifecycle events' JSON Schema (signoff/events/schema.py).
        ("GET", "/events/schema"),
    }
)
OPERATOR_ROUTES = frozenset({("POST", "/tenants"), ("GET", "/tenants")})
V1_PREFIX = "/v1/"


@dataclass(frozen=True)
class OfWorkflow:
    """An app key may use the route when this path parameter is its workflow."""

    param: str


@dataclass(frozen=True)
class OfRun:
    """An app key may use the route when the run this parameter names is of its workflow."""

    param: str


@dataclass(frozen=True)
class AnyTarget:
    """An app key may use the route; the service checks what the request names."""


AppRule = OfWorkflow | OfRun | AnyTarget

APP_ROUTES: dict[tuple[str, str], AppRule] = {
    ("GET", "/workflows/<workflow_id>"): OfWorkflow("workflow_id"),
    # Its workflow's versions, read only (Dify's app API reads its own app).
    ("GET", "/workflows/<workflow_id>/versions"): OfWorkflow("workflow_id"),
    ("GET", "/workflows/<workflow_id>/versions/<version>"): OfWorkflow("workflow_id"),
    ("POST", "/workflows/<workflow_id>/runs"): OfWorkflow("workflow_id"),
    # Agno's cancel (signoff/api/routes/agno.py).
    ("POST", "/workflows/<workflow_id>/runs/<run_id>/cancel"): OfWorkflow("workflow_id"),
    ("GET", "/runs/<run_id>"): OfRun("run_id"),
    ("GET", "/runs/<run_id>/nodes"): OfRun("run_id"),
    ("GET", "/runs/<run_id>/events"): OfRun("run_id"),
    ("POST", "/runs/<run_id>/cancel"): OfRun("run_id"),
    ("POST", "/runs/<run_id>/retry"): OfRun("run_id"),
    ("GET", "/runs/<run_id>/variables"): OfRun("run_id"),
    ("PATCH", "/runs/<run_id>/variables"): OfRun("run_id"),
    ("GET", "/runs/<run_id>/reviews"): OfRun("run_id"),
    ("GET", "/runs/<run_id>/reviews/<review_id>"): OfRun("run_id"),
    ("POST", "/runs/<run_id>/reviews/<review_id>"): OfRun("run_id"),
    # The token service lets an app key issue scopes within its workflow only.
    ("POST", "/tokens"): AnyTarget(),
    # A form names its run only through its token: the route checks the form's workflow.
    ("GET", "/forms/<form_token>"): AnyTarget(),
    ("POST", "/forms/<form_token>"): AnyTarget(),
}


@dataclass(frozen=True)
class TokenRule:
    """A token may use the route when a scope grants `action` on what the parameter names."""

    resource: str
    param: str
    action: str


TOKEN_ROUTES: dict[tuple[str, str], TokenRule] = {
    ("GET", "/runs/<run_id>"): TokenRule("runs", "run_id", "read"),
    ("GET", "/runs/<run_id>/nodes"): TokenRule("runs", "run_id", "read"),
    ("GET", "/runs/<run_id>/events"): TokenRule("runs", "run_id", "read"),
    ("GET", "/runs/<run_id>/reviews"): TokenRule("runs", "run_id", "reviews"),
    ("GET", "/runs/<run_id>/reviews/<review_id>"): TokenRule("runs", "run_id", "reviews"),
    ("POST", "/runs/<run_id>/reviews/<review_id>"): TokenRule("runs", "run_id", "reviews"),
    ("POST", "/workflows/<workflow_id>/runs"): TokenRule("workflows", "workflow_id", "runs"),
}


class RunOwners(Protocol):
    def workflow_of_run(self, tenant_id: str, run_id: str) -> str:
        """The run's workflow; NotFound when the tenant has no such run."""
        ...


def check_access(
    principal: Principal | None,
    method: str,
    path: str,
    params: Mapping[str, Any],
    runs: RunOwners,
) -> None:
    """Nothing when `principal` may call the route `method path`; Forbidden or Unauthorized."""
    route = (method.upper(), path)
    if route in PUBLIC_ROUTES:
        return
    if principal is None:
        raise Unauthorized("A valid API key is required: send Authorization: Bearer <key>.")
    if route in OPERATOR_ROUTES:
        if not principal.operator:
            raise Forbidden("only the operator key may manage tenants")
        return
    if principal.role == OPERATOR:
        raise Forbidden("the operator key manages tenants only: use a tenant's key here")
    if principal.is_admin:
        return
    if principal.role == APP:
        _check_app_key(principal, route, params, runs)
        return
    if principal.role == TOKEN:
        rule = TOKEN_ROUTES.get(route)
        if rule is None or not granted(
            principal.scopes, rule.resource, str(params.get(rule.param, "")), rule.action
        ):
            raise Forbidden("this token's scopes do not cover this route")
        return
    raise Forbidden("this key may not use this route")


def _check_app_key(
    principal: Principal, route: tuple[str, str], params: Mapping[str, Any], runs: RunOwners
) -> None:
    if route[1].startswith(V1_PREFIX):
        return
    rule = APP_ROUTES.get(route)
    if rule is None:
        raise Forbidden("an app key may use its workflow's routes only, not admin routes")
    if isinstance(rule, OfWorkflow):
        workflow_id = str(params.get(rule.param, ""))
    elif isinstance(rule, OfRun):
        workflow_id = runs.workflow_of_run(principal.tenant_id, str(params.get(rule.param, "")))
    else:
        return
    if workflow_id != principal.workflow_id:
        raise Forbidden(f"this app key acts for workflow {principal.workflow_id} only")


def access_middleware(runs: RunOwners) -> Callable[[Any, NextMiddleware], Response]:
    """A resolver middleware enforcing check_access on every routed request."""

    def enforce_access(app: Any, next_middleware: NextMiddleware) -> Response:
        route = app.context.get("_route")
        params = app.context.get("_route_args") or {}
        principal = principal_from_event(app.current_event.raw_event)
        check_access(principal, route.method, route.path, params, runs)
        return next_middleware(app)

    return enforce_access
