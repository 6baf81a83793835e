"""Who may call which route: admin, app key, token, operator; an unlisted route is admin-only."""

from __future__ import annotations

import pytest

from signoff.api.access import APP_ROUTES, TOKEN_ROUTES, check_access
from signoff.auth.principal import Principal
from signoff.errors import Forbidden, NotFound, Unauthorized

ADMIN = Principal(tenant_id="t", key_id="k1", role="admin")
APP = Principal(tenant_id="t", key_id="k2", role="app", workflow_id="wf-1")
OPERATOR = Principal(tenant_id="", key_id="operator", role="operator", operator=True)
DEV = Principal(tenant_id="default", key_id="k3", role="admin", operator=True)
REVIEWER = Principal(tenant_id="t", key_id="k1", role="token", scopes=("runs:r-1:reviews",))


class Runs:
    def workflow_of_run(self, tenant_id: str, run_id: str) -> str:
        runs = {("t", "r-1"): "wf-1", ("t", "r-2"): "wf-2"}
        if (tenant_id, run_id) not in runs:
            raise NotFound(f"run {run_id} not found")
        return runs[(tenant_id, run_id)]


def allowed(principal: Principal | None, method: str, path: str, **params: str) -> bool:
    try:
        check_access(principal, method, path, params, Runs())
    except Forbidden:
        return False
    return True


def test_given_an_admin_key_then_every_tenant_route_and_no_operator_route():
    assert allowed(ADMIN, "GET", "/keys")
    assert allowed(ADMIN, "POST", "/workflows/<workflow_id>/runs", workflow_id="wf-2")
    assert allowed(ADMIN, "GET", "/some/route/added/later")
    assert not allowed(ADMIN, "POST", "/tenants")
    assert not allowed(ADMIN, "GET", "/tenants")


def test_given_the_operator_key_then_tenants_only():
    assert allowed(OPERATOR, "POST", "/tenants")
    assert not allowed(OPERATOR, "GET", "/workflows")
    assert not allowed(OPERATOR, "POST", "/keys")


def test_given_the_dev_key_then_operator_and_admin_routes():
    assert allowed(DEV, "POST", "/tenants")
    assert allowed(DEV, "GET", "/workflows")


def test_given_an_app_key_then_its_workflow_and_its_runs_only():
    assert allowed(APP, "POST", "/workflows/<workflow_id>/runs", workflow_id="wf-1")
    assert allowed(APP, "GET", "/runs/<run_id>", run_id="r-1")
    assert allowed(APP, "GET", "/v1/workflows/run")
    assert not allowed(APP, "POST", "/workflows/<workflow_id>/runs", workflow_id="wf-2")
    assert not allowed(APP, "GET", "/runs/<run_id>/nodes", run_id="r-2")
    for admin_route in (("GET", "/keys"), ("POST", "/workflows"), ("GET", "/runs"), ("GET", "/x")):
        assert not allowed(APP, *admin_route)


def test_given_an_app_key_and_another_tenants_run_then_404_before_any_403():
    with pytest.raises(NotFound):
        allowed(APP, "GET", "/runs/<run_id>", run_id="r-of-another-tenant")


def test_given_a_review_token_then_its_runs_reviews_and_reading_it_only():
    assert allowed(REVIEWER, "GET", "/runs/<run_id>/reviews", run_id="r-1")
    assert allowed(REVIEWER, "POST", "/runs/<run_id>/reviews/<review_id>", run_id="r-1")
    assert allowed(REVIEWER, "GET", "/runs/<run_id>", run_id="r-1")
    assert not allowed(REVIEWER, "GET", "/runs/<run_id>", run_id="r-2")
    assert not allowed(REVIEWER, "POST", "/workflows/<workflow_id>/runs", workflow_id="wf-1")
    assert not allowed(REVIEWER, "POST", "/tokens")
    assert not allowed(REVIEWER, "GET", "/keys")


def test_given_no_principal_then_public_routes_only():
    assert allowed(None, "GET", "/health")
    assert allowed(None, "GET", "/openapi.json")
    with pytest.raises(Unauthorized):
        allowed(None, "GET", "/workflows")


def test_every_listed_token_route_is_also_open_to_app_keys_of_the_same_workflow():
    assert set(TOKEN_ROUTES) <= set(APP_ROUTES)
