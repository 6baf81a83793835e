"""The authorizer's use case: the operator key, tenants' keys and tokens, each with its limits."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from signoff.auth.authorizer import Authorizer
from signoff.auth.keys import ApiKeyService, hash_key
from signoff.auth.principal import Principal
from signoff.auth.tenants import TenantService
from signoff.auth.tokens import TokenService
from signoff.errors import Conflict, InvalidInput, Unauthorized
from signoff.local.provision import create_tables
from signoff.ratelimit import DEFAULT_PLANS, RatePlan
from signoff.store.api_keys import DynamoApiKeyRepository
from signoff.store.tenants import DynamoTenantRepository

REGION = "us-east-1"
OPERATOR_KEY = "sk_operator_key_for_tests_0001"
SECRET = b"t" * 40


class World:
    def __init__(self, client: object, tables: dict[str, str]) -> None:
        self.keys = ApiKeyService(DynamoApiKeyRepository(tables["ApiKeysTable"], client))
        self.tenant_records = DynamoTenantRepository(tables["TenantsTable"], client)
        self.tenants = TenantService(self.tenant_records, self.keys, DEFAULT_PLANS)
        self.tokens = TokenService(lambda: SECRET)
        self.authorizer = Authorizer(
            self.keys,
            self.tenants,
            self.tenant_records,
            self.tokens,
            operator_key_hash=hash_key(OPERATOR_KEY),
        )


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        yield World(client, create_tables(client))


def test_given_the_operator_key_then_the_operator_with_no_tenant(world):
    principal = world.authorizer.authorize(f"Bearer {OPERATOR_KEY}")

    assert principal.role == "operator"
    assert principal.operator
    assert principal.tenant_id == ""


def test_given_a_new_tenant_then_its_first_key_is_an_admin_key_with_the_plans_limit(world):
    tenant, record, key = world.tenants.create_tenant("Acme", tenant_id="acme", plan="pro")

    principal = world.authorizer.authorize(f"Bearer {key}")

    assert (tenant.tenant_id, tenant.plan) == ("acme", "pro")
    assert (record.role, record.tenant_id) == ("admin", "acme")
    assert principal.tenant_id == "acme"
    assert principal.is_admin and not principal.operator
    assert principal.plan == "pro"
    assert principal.tenant_limit == DEFAULT_PLANS["pro"]


def test_given_a_tenant_with_its_own_limit_then_it_wins_over_its_plan(world):
    limit = RatePlan(requests_per_minute=7, burst=3)
    _, _, key = world.tenants.create_tenant("Tiny", plan="free", rate_limit=limit)

    assert world.authorizer.authorize(f"Bearer {key}").tenant_limit == limit


def test_given_the_dev_key_that_is_operator_and_admin_then_both(world):
    world.keys.create_key("default", "dev", plaintext=OPERATOR_KEY)

    principal = world.authorizer.authorize(f"Bearer {OPERATOR_KEY}")

    assert principal.operator
    assert principal.is_admin
    assert principal.tenant_id == "default"


def test_given_a_token_then_its_principal_with_its_tenants_limit(world):
    _, _, key = world.tenants.create_tenant("Acme", tenant_id="acme", plan="enterprise")
    admin = world.authorizer.authorize(f"Bearer {key}")
    token = world.tokens.issue(admin, ["runs:r-1:reviews"], "alice").token

    principal = world.authorizer.authorize(f"Bearer {token}")

    assert principal.role == "token"
    assert principal.subject == "alice"
    assert principal.tenant_limit == DEFAULT_PLANS["enterprise"]


@pytest.mark.parametrize(
    "header", ["Bearer sk_unknown_key_0000", "Bearer eyJhbGciOiJIUzI1NiJ9.e30.bad", "Basic x"]
)
def test_given_an_unknown_key_or_forged_token_then_unauthorized(world, header):
    with pytest.raises(Unauthorized):
        world.authorizer.authorize(header)


def test_given_a_principal_then_it_survives_the_authorizer_context_round_trip(world):
    principal = Principal(
        tenant_id="acme",
        key_id="key_1",
        role="token",
        workflow_id="wf-1",
        operator=False,
        scopes=("runs:r-1:reviews", "runs:r-1:read"),
        subject="alice@example.com",
        token_id="tok_1",
        expires_at=1_900_000_000,
        plan="pro",
        tenant_limit=RatePlan(requests_per_minute=1000, burst=200),
        key_limit=RatePlan(requests_per_minute=10, burst=2),
    )

    context = principal.to_context()

    assert all(isinstance(value, str) for value in context.values())
    assert Principal.from_context(context) == principal


def test_given_a_taken_tenant_id_or_unknown_plan_then_409_or_400(world):
    world.tenants.create_tenant("Acme", tenant_id="acme")

    with pytest.raises(Conflict):
        world.tenants.create_tenant("Acme again", tenant_id="acme")
    with pytest.raises(InvalidInput):
        world.tenants.create_tenant("Odd", plan="platinum")
    with pytest.raises(InvalidInput):
        world.tenants.create_tenant("Odd", tenant_id="no spaces please")
