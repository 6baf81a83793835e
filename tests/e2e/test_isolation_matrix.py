"""Isolation over HTTP, route by route, for every route the API's OpenAPI document lists.

- a tenant's admin key on another tenant's resources: 404 every time, never their data;
- an app key (one workflow): its workflow's routes work, the same routes on another workflow of
  its tenant and every admin route answer 403;
- a token: exactly the routes its scope names.

The routes come from /openapi.json, so a route added later is in the matrix without a change
here; a path parameter or request body this file cannot fill makes the matrix fail, naming it.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from signoff.api.access import APP_ROUTES, OPERATOR_ROUTES, PUBLIC_ROUTES, TOKEN_ROUTES
from tests.support.workflows import greeter

pytestmark = pytest.mark.e2e

# What tenant B owns that nobody else may see: it appears in B's workflow and run inputs.
MARKER = f"tenant-b-private-{secrets.token_hex(4)}"
_PARAMETER = re.compile(r"\{([^}]+)\}")


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # as in the OpenAPI document: /runs/{run_id}
    operation: dict[str, Any]

    @property
    def route(self) -> tuple[str, str]:
        """The route as the API's access rules name it: ("GET", "/runs/<run_id>")."""
        return self.method, _PARAMETER.sub(r"<\1>", self.path)

    @property
    def parameters(self) -> list[str]:
        return _PARAMETER.findall(self.path)

    def url(self, values: dict[str, str]) -> str:
        missing = [name for name in self.parameters if name not in values]
        assert not missing, f"{self.method} {self.path}: add a value for {missing} to the matrix"
        return _PARAMETER.sub(lambda match: values[match.group(1)], self.path)


@dataclass
class Tenant:
    tenant_id: str
    client: httpx.Client
    workflow_id: str = ""
    other_workflow_id: str = ""
    run_id: str = ""
    other_run_id: str = ""
    key_id: str = ""
    app_key: str = ""
    webhook_id: str = ""


def operations(document: dict[str, Any]) -> list[Operation]:
    found = []
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            found.append(Operation(method.upper(), path, operation))
    return [operation for operation in found if operation.route not in PUBLIC_ROUTES]


@dataclass(frozen=True)
class MultipartBody:
    """A form the operation takes as multipart/form-data: binary fields go as files."""

    fields: dict[str, str]
    files: dict[str, tuple[str, bytes]]


def minimal_body(operation: Operation, document: dict[str, Any]) -> Any:
    """The smallest request body the operation's schema accepts (None when it takes none): JSON
    when the operation takes JSON, else its multipart form."""
    body = operation.operation.get("requestBody")
    if not body:
        return None
    content = body["content"]
    if "application/json" in content:
        return _minimal(content["application/json"]["schema"], document)
    schema = content["multipart/form-data"]["schema"]
    if "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    fields: dict[str, str] = {}
    files: dict[str, tuple[str, bytes]] = {}
    for name in schema.get("required", []):
        field = schema["properties"][name]
        if field.get("format") == "binary":
            files[name] = ("x.txt", b"x")
        else:
            fields[name] = str(_minimal(field, document))
    return MultipartBody(fields, files)


def _minimal(schema: dict[str, Any], document: dict[str, Any]) -> Any:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return _minimal(document["components"]["schemas"][name], document)
    for choice in ("anyOf", "oneOf"):
        if choice in schema:
            options = [option for option in schema[choice] if option.get("type") != "null"]
            return _minimal(options[0], document)
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        properties = schema.get("properties", {})
        return {name: _minimal(properties[name], document) for name in schema.get("required", [])}
    if kind == "array":
        return [_minimal(schema.get("items", {}), document)] * schema.get("minItems", 0)
    if kind == "string":
        return "x" * max(1, schema.get("minLength", 1))
    if kind in ("integer", "number"):
        return schema.get("minimum", 1)
    if kind == "boolean":
        return False
    return {}


def call(client: httpx.Client, operation: Operation, url: str, body: Any) -> httpx.Response:
    if body is None:
        return client.request(operation.method, url)
    if isinstance(body, MultipartBody):
        return client.request(operation.method, url, data=body.fields, files=body.files)
    return client.request(operation.method, url, json=body)


# ------------------------------------------------------------------------------ the two tenants


@pytest.fixture(scope="module")
def tenants(local_cloud) -> Iterator[tuple[Tenant, Tenant, dict[str, Any]]]:
    operator = httpx.Client(
        base_url=local_cloud.base_url,
        headers={"Authorization": f"Bearer {local_cloud.admin_key}"},
        timeout=60,
    )
    made = []
    for name in ("a", "b"):
        tenant_id = f"iso-{name}-{secrets.token_hex(3)}"
        response = operator.post(
            "/tenants", json={"name": f"tenant {name}", "tenant_id": tenant_id, "plan": "pro"}
        )
        assert response.status_code == 201, response.text
        key = response.json()["key"]
        client = httpx.Client(
            base_url=local_cloud.base_url,
            headers={"Authorization": f"Bearer {key['key']}"},
            timeout=60,
        )
        made.append(Tenant(tenant_id=tenant_id, client=client, key_id=key["id"]))
    a, b = made
    for workflow_id in ("private", "other"):
        document = greeter(id=workflow_id, name=workflow_id, description=MARKER)
        assert b.client.post("/workflows", json=document).status_code == 201
    b.workflow_id, b.other_workflow_id = "private", "other"
    for workflow_id, attribute in (("private", "run_id"), ("other", "other_run_id")):
        run = b.client.post(f"/workflows/{workflow_id}/runs", json={"inputs": {"name": MARKER}})
        assert run.status_code == 200, run.text
        setattr(b, attribute, run.json()["run_id"])
    app = b.client.post("/keys", json={"name": "widget", "role": "app", "workflow_id": "private"})
    assert app.status_code == 201, app.text
    b.app_key = app.json()["key"]
    # Subscribed to an event B's runs never send (greeter has no loop): nothing is delivered.
    hook = b.client.post(
        "/webhooks", json={"url": "https://93.184.216.34/hook", "events": ["loop.completed"]}
    )
    assert hook.status_code == 201, hook.text
    b.webhook_id = hook.json()["id"]
    document = operator.get("/openapi.json").json()
    try:
        yield a, b, document
    finally:
        for client in (operator, a.client, b.client):
            client.close()


def values_of(tenant: Tenant, *, other: bool = False) -> dict[str, str]:
    """Path parameter values naming `tenant`'s resources (its second workflow's if `other`)."""
    return {
        "workflow_id": tenant.other_workflow_id if other else tenant.workflow_id,
        "run_id": tenant.other_run_id if other else tenant.run_id,
        "key_id": tenant.key_id,
        "webhook_id": tenant.webhook_id,
        "node_id": "greet",
        "review_id": "review-that-is-not-there",
        "tenant_id": tenant.tenant_id,
        "asset": "swagger-ui.min.css",
        # Dify's /v1 and Agno's routes name a run as these.
        "workflow_run_id": tenant.other_run_id if other else tenant.run_id,
        "task_id": tenant.other_run_id if other else tenant.run_id,
        "form_token": "form-that-is-not-there",
        # GET /workflows/{workflow_id}/versions/{version}: every workflow has a version 1.
        "version": "1",
        # /workflows/{workflow_id}/secrets/{name}: a secret environment variable's name.
        "name": "api_key",
    }


# -------------------------------------------------------------------------- tenant isolation


def test_given_tenant_a_when_it_calls_every_route_on_tenant_b_resources_then_404_never_data(
    tenants,
):
    a, b, document = tenants
    checked = []

    for operation in operations(document):
        body = minimal_body(operation, document)
        response = call(a.client, operation, operation.url(values_of(b)), body)
        checked.append(operation.route)

        assert MARKER not in response.text, operation.route
        assert b.run_id not in response.text or not response.is_success, operation.route
        if operation.route in OPERATOR_ROUTES:
            assert response.status_code == 403, (operation.route, response.text)
        elif operation.parameters:
            assert response.status_code == 404, (operation.route, response.text)
            assert response.json()["error_code"] == 3000
        else:
            assert response.status_code < 500, (operation.route, response.text)

    assert ("GET", "/runs/<run_id>") in checked
    assert ("DELETE", "/keys/<key_id>") in checked
    assert ("PUT", "/workflows/<workflow_id>/secrets/<name>") in checked


def test_given_tenant_b_after_the_matrix_then_its_resources_are_untouched(tenants):
    _, b, _ = tenants

    assert b.client.get(f"/runs/{b.run_id}").json()["status"] == "succeeded"
    assert b.key_id in {key["id"] for key in b.client.get("/keys").json()["data"]}


def test_given_tenant_a_when_it_names_tenant_b_resources_in_a_body_then_404_or_its_own(tenants):
    a, b, _ = tenants

    token = a.client.post("/tokens", json={"scopes": [f"runs:{b.run_id}:reviews"], "subject": "m"})
    app_key = a.client.post(
        "/keys", json={"name": "x", "role": "app", "workflow_id": b.workflow_id}
    )
    # Workflow ids are per tenant: the same id in A is a new workflow, not a conflict with B's.
    same_id = a.client.post("/workflows", json=greeter(id=b.workflow_id))

    assert token.status_code == 404
    assert app_key.status_code == 404
    assert same_id.status_code == 201, same_id.text
    assert MARKER not in a.client.get(f"/workflows/{b.workflow_id}").text


def test_given_tenant_a_when_it_lists_then_it_sees_none_of_tenant_b(tenants):
    a, b, document = tenants

    for operation in operations(document):
        if operation.method != "GET" or operation.parameters:
            continue
        response = a.client.get(operation.path)
        for private in (MARKER, b.run_id, b.key_id):
            assert private not in response.text, operation.route


# ---------------------------------------------------------------------------------- app keys


def test_given_an_app_key_then_its_workflow_works_and_everything_else_is_403(tenants, local_cloud):
    _, b, document = tenants
    app = httpx.Client(
        base_url=local_cloud.base_url, headers={"Authorization": f"Bearer {b.app_key}"}, timeout=60
    )
    own, other = values_of(b), values_of(b, other=True)

    with app:
        for operation in operations(document):
            body = minimal_body(operation, document)
            if operation.route[1].startswith("/v1/"):
                continue  # the Dify-compatible routes: the app key's own surface
            response = call(app, operation, operation.url(own), body)
            if operation.route in APP_ROUTES:
                assert response.status_code != 403, (operation.route, response.text)
                if {"workflow_id", "run_id"} & set(operation.parameters):
                    elsewhere = call(app, operation, operation.url(other), body)
                    assert elsewhere.status_code == 403, (operation.route, elsewhere.text)
                    assert MARKER not in elsewhere.text
            else:
                assert response.status_code == 403, (operation.route, response.text)
                assert response.json()["error_code"] == 2001


def test_given_an_app_key_then_it_reads_its_workflows_versions_and_no_other_ones(
    tenants, local_cloud
):
    a, b, document = tenants
    listed_routes = {operation.route for operation in operations(document)}
    app = httpx.Client(
        base_url=local_cloud.base_url, headers={"Authorization": f"Bearer {b.app_key}"}, timeout=60
    )

    with app:
        versions = app.get(f"/workflows/{b.workflow_id}/versions")
        version = app.get(f"/workflows/{b.workflow_id}/versions/1")
        other_app = [
            app.get(f"/workflows/{b.other_workflow_id}/versions"),
            app.get(f"/workflows/{b.other_workflow_id}/versions/1"),
        ]
    # (Tenant A made a workflow of its own named like B's app workflow above: B's other one.)
    other_tenant = [
        a.client.get(f"/workflows/{b.other_workflow_id}/versions"),
        a.client.get(f"/workflows/{b.other_workflow_id}/versions/1"),
    ]

    # The matrix above walks these routes too (they are app routes of the OpenAPI document).
    for route in (
        ("GET", "/workflows/<workflow_id>/versions"),
        ("GET", "/workflows/<workflow_id>/versions/<version>"),
    ):
        assert route in APP_ROUTES and route in listed_routes
    assert versions.status_code == 200, versions.text
    assert [entry["version"] for entry in versions.json()["data"]] == [1]
    assert version.status_code == 200, version.text
    assert (version.json()["workflow_id"], version.json()["version"]) == (b.workflow_id, 1)
    assert version.json()["version_id"] == versions.json()["data"][0]["version_id"]
    for refused in other_app:
        assert refused.status_code == 403, refused.text
        assert MARKER not in refused.text
    for refused in other_tenant:
        assert refused.status_code == 404, refused.text
        assert MARKER not in refused.text


# ------------------------------------------------------------------------------------ tokens


def test_given_a_review_token_then_only_its_runs_routes_answer(tenants, local_cloud):
    _, b, document = tenants
    issued = b.client.post(
        "/tokens", json={"scopes": [f"runs:{b.run_id}:reviews"], "subject": "alice@example.com"}
    )
    assert issued.status_code == 201, issued.text
    token = httpx.Client(
        base_url=local_cloud.base_url,
        headers={"Authorization": f"Bearer {issued.json()['token']}"},
        timeout=60,
    )
    own, other = values_of(b), values_of(b, other=True)

    with token:
        for operation in operations(document):
            body = minimal_body(operation, document)
            response = call(token, operation, operation.url(own), body)
            rule = TOKEN_ROUTES.get(operation.route)
            if rule is not None and rule.resource == "runs":
                assert response.status_code != 403, (operation.route, response.text)
                elsewhere = call(token, operation, operation.url(other), body)
                assert elsewhere.status_code == 403, (operation.route, elsewhere.text)
            else:
                assert response.status_code == 403, (operation.route, response.text)


def test_given_an_expired_or_forged_token_then_401_from_the_gateway(tenants, local_cloud):
    _, b, _ = tenants
    issued = b.client.post(
        "/tokens", json={"scopes": [f"runs:{b.run_id}:read"], "subject": "alice"}
    ).json()
    header, payload, signature = issued["token"].split(".")
    forged = f"{header}.{payload}.{signature[::-1]}"

    response = httpx.get(
        f"{local_cloud.base_url}/runs/{b.run_id}",
        headers={"Authorization": f"Bearer {forged}"},
        timeout=30,
    )

    assert response.status_code == 401
    assert response.json()["error_code"] == 2000
