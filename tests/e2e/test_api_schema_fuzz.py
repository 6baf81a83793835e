"""Schemathesis over the whole API, from its own OpenAPI document, against the local cloud.

Every operation gets generated requests (valid and invalid); none may answer 5xx, and every
answer must match the document: its status listed, its content type and its body schema.
The run is bounded and reproducible: a fixed number of examples per operation, derandomized.
It runs as its own tenant, so the other end-to-end tests never see what it creates.
"""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

pytestmark = pytest.mark.e2e

EXAMPLES_PER_OPERATION = 10
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def fuzz_tenant(local_cloud) -> dict[str, str]:
    """A tenant of its own on the largest plan (the fuzzer is fast, not abusive)."""
    tenant_id = f"fuzz-{secrets.token_hex(3)}"
    response = httpx.post(
        f"{local_cloud.base_url}/tenants",
        json={"name": "fuzz", "tenant_id": tenant_id, "plan": "enterprise"},
        headers={"Authorization": f"Bearer {local_cloud.admin_key}"},
        timeout=60,
    )
    assert response.status_code == 201, response.text
    return {"base_url": local_cloud.base_url, "key": response.json()["key"]["key"]}


@pytest.fixture
def api_schema(fuzz_tenant: dict[str, str]) -> Any:
    return schemathesis.openapi.from_url(f"{fuzz_tenant['base_url']}/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_given_generated_requests_then_no_5xx_and_every_answer_matches_the_document(
    case, fuzz_tenant
):
    case.call_and_validate(
        base_url=fuzz_tenant["base_url"],
        headers={"Authorization": f"Bearer {fuzz_tenant['key']}"},
        checks=CHECKS,
        timeout=60,
    )
