"""/tenants, /keys and /tokens through the resolver, and the gate in front of every route:
body size (413), rate limits (429 with Retry-After), expired credentials (401), and 403s."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from moto import mock_aws

from signoff.api.app import ApiServices, build_app
from signoff.auth.principal import Principal
from signoff.local.provision import create_tables
from signoff.ratelimit import RatePlan
from signoff.settings import Settings
from tests.support.api_gateway import proxy_event

REGION = "us-east-1"
SECRET_NAME = "signoff-test-token-signing"
ADMIN = Principal(tenant_id="tenant-a", key_id="key_admin", role="admin")
OPERATOR = Principal(tenant_id="", key_id="operator", role="operator", operator=True)


class Api:
    def __init__(self, app: APIGatewayRestResolver) -> None:
        self.app = app

    def call(
        self, method: str, path: str, principal: Principal | None = ADMIN, **kwargs: Any
    ) -> tuple[int, Any, dict[str, str]]:
        authorizer = principal.to_context() if principal else None
        response = self.app.resolve(proxy_event(method, path, authorizer=authorizer, **kwargs), {})
        headers = {
            name.lower(): values[0]
            for name, values in (response.get("multiValueHeaders") or {}).items()
        }
        body = json.loads(response["body"]) if response.get("body") else None
        return response["statusCode"], body, headers


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        secrets = boto3.client("secretsmanager", region_name=REGION)
        secrets.create_secret(Name=SECRET_NAME, SecretString="k" * 64)
        tables = create_tables(dynamodb)
        settings = Settings(
            workflows_table=tables["WorkflowsTable"],
            runs_table=tables["RunsTable"],
            node_executions_table=tables["NodeExecutionsTable"],
            api_keys_table=tables["ApiKeysTable"],
            tenants_table=tables["TenantsTable"],
            rate_limits_table=tables["RateLimitsTable"],
            idempotency_table=tables["IdempotencyTable"],
            token_secret_ref=f"secretsmanager:{SECRET_NAME}",
            payloads_bucket="payloads",
            max_request_bytes=4096,
        )
        services = ApiServices.from_settings(
            settings,
            dynamodb_client=dynamodb,
            sfn_client=boto3.client("stepfunctions", region_name=REGION),
            s3_client=boto3.client("s3", region_name=REGION),
            secrets_client=secrets,
        )
        yield Api(build_app(services))


# ---------------------------------------------------------------------------- tenants and keys


def test_given_the_operator_when_it_creates_a_tenant_then_201_with_its_first_admin_key(api):
    status, body, _ = api.call(
        "POST", "/tenants", OPERATOR, body={"name": "Acme", "tenant_id": "acme", "plan": "pro"}
    )

    assert status == 201
    assert body["tenant"]["id"] == "acme"
    assert body["tenant"]["rate_limit"] == {"requests_per_minute": 1000, "burst": 200}
    assert body["key"]["role"] == "admin"
    assert body["key"]["key"].startswith(body["key"]["prefix"])
    assert api.call("GET", "/tenants", OPERATOR)[1]["data"][0]["id"] == "acme"


def test_given_an_admin_key_when_it_creates_a_tenant_then_403_in_the_error_shape(api):
    status, body, _ = api.call("POST", "/tenants", ADMIN, body={"name": "Acme"})

    assert status == 403
    assert body == {
        "status": 403,
        "code": "forbidden",
        "message": "only the operator key may manage tenants",
        "error_code": 2001,
    }


def test_given_the_operator_alone_when_it_lists_keys_then_403(api):
    assert api.call("GET", "/keys", OPERATOR)[0] == 403


def test_given_keys_then_created_shown_once_listed_by_prefix_rotated_and_deleted(api):
    status, created, _ = api.call("POST", "/keys", body={"name": "ci"})
    assert status == 201
    key_id, key = created["id"], created["key"]

    _, listed, _ = api.call("GET", "/keys")
    assert [entry["id"] for entry in listed["data"]] == [key_id]
    assert "key" not in listed["data"][0]
    assert key not in json.dumps(listed)

    status, rotated, _ = api.call("POST", f"/keys/{key_id}/rotate", body={"grace_seconds": 60})
    assert status == 201
    assert rotated["previous"]["replaced_by"] == rotated["key"]["id"]
    assert rotated["key"]["key"] != key

    status, body, _ = api.call("DELETE", f"/keys/{key_id}")
    assert (status, body) == (204, None)
    assert api.call("DELETE", f"/keys/{key_id}")[0] == 404


def test_given_an_app_key_request_for_an_unknown_workflow_then_404(api):
    status, body, _ = api.call(
        "POST", "/keys", body={"name": "widget", "role": "app", "workflow_id": "nope"}
    )

    assert (status, body["code"], body["error_code"]) == (404, "not_found", 3000)


def test_given_a_key_body_breaking_the_schema_then_400_naming_the_field(api):
    status, body, _ = api.call("POST", "/keys", body={"name": "ci", "role": "root"})

    assert status == 400
    assert body["field"] == "role"
    assert body["error_code"] == 1000


def test_given_malformed_json_then_400_invalid_json(api):
    status, body, _ = api.call("POST", "/keys", raw_body='{"name": ')

    assert (status, body["code"], body["error_code"]) == (400, "invalid_json", 1001)


# ---------------------------------------------------------------------------------- tokens


def test_given_a_scope_on_an_unknown_run_then_the_token_is_refused_404(api):
    status, _, _ = api.call(
        "POST", "/tokens", body={"scopes": ["runs:r-1:reviews"], "subject": "alice"}
    )

    assert status == 404


def test_given_a_scope_on_a_workflow_of_another_tenant_then_404(api):
    other = Principal(tenant_id="tenant-b", key_id="key_b", role="admin")

    status, _, _ = api.call(
        "POST", "/tokens", other, body={"scopes": ["workflows:greeter:runs"], "subject": "x"}
    )

    assert status == 404


# ------------------------------------------------------------------------------------ gate


def test_given_a_body_over_the_limit_then_413_before_anything_else(api):
    status, body, _ = api.call("POST", "/keys", raw_body=json.dumps({"name": "x" * 5000}))

    assert status == 413
    assert (body["code"], body["error_code"]) == ("payload_too_large", 1003)


def test_given_a_tenant_past_its_limit_then_429_with_retry_after_and_the_error_body(api):
    limited = Principal(
        tenant_id="tenant-a",
        key_id="key_admin",
        role="admin",
        tenant_limit=RatePlan(requests_per_minute=6, burst=2),
    )

    answers = [api.call("GET", "/keys", limited) for _ in range(3)]

    assert [status for status, _, _ in answers] == [200, 200, 429]
    _, body, headers = answers[2]
    assert body["code"] == "too_many_requests"
    assert body["error_code"] == 2002
    # One request frees up every 10 s (6 a minute); the wait left shrinks while the test runs.
    assert 1 <= int(headers["retry-after"]) <= 10


def test_given_a_key_with_its_own_limit_then_it_is_limited_before_its_tenant(api):
    limited_key = Principal(
        tenant_id="tenant-a",
        key_id="key_small",
        role="admin",
        key_limit=RatePlan(requests_per_minute=60, burst=1),
        tenant_limit=RatePlan(requests_per_minute=6000, burst=100),
    )
    other_key = Principal(
        tenant_id="tenant-a",
        key_id="key_other",
        role="admin",
        tenant_limit=RatePlan(requests_per_minute=6000, burst=100),
    )

    assert api.call("GET", "/keys", limited_key)[0] == 200
    assert api.call("GET", "/keys", limited_key)[0] == 429
    assert api.call("GET", "/keys", other_key)[0] == 200


def test_given_a_credential_that_expired_after_the_gateway_cached_it_then_401(api):
    expired = Principal(
        tenant_id="tenant-a", key_id="key_old", role="admin", expires_at=int(time.time()) - 1
    )

    status, body, _ = api.call("GET", "/keys", expired)

    assert (status, body["code"], body["error_code"]) == (401, "unauthorized", 2000)


def test_given_an_app_key_on_an_admin_route_then_403(api):
    app_key = Principal(tenant_id="tenant-a", key_id="key_app", role="app", workflow_id="wf")

    assert api.call("GET", "/keys", app_key)[0] == 403
    assert api.call("POST", "/workflows", app_key, body={"nodes": []})[0] == 403
