"""API keys: creation, hashing, and what `authorize` accepts and refuses."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from signoff.auth.keys import ApiKeyService, Principal, hash_key
from signoff.errors import InvalidInput, Unauthorized
from signoff.local.provision import create_tables
from signoff.store.api_keys import ApiKeyRecord, DynamoApiKeyRepository

REGION = "us-east-1"


@pytest.fixture
def repository(monkeypatch: pytest.MonkeyPatch) -> Iterator[DynamoApiKeyRepository]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        tables = create_tables(client)
        yield DynamoApiKeyRepository(tables["ApiKeysTable"], client=client)


@pytest.fixture
def keys(repository: DynamoApiKeyRepository) -> ApiKeyService:
    return ApiKeyService(repository)


def test_given_no_plaintext_when_creating_a_key_then_it_is_sk_and_40_url_safe_chars(keys):
    record, key = keys.create_key("tenant-a", "ci")

    assert key.startswith("sk_")
    random_part = key.removeprefix("sk_")
    assert len(random_part) == 40
    assert set(random_part) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    )
    assert record.key_hash == hash_key(key)
    assert record.prefix == key[:8]
    assert record.role == "admin"
    assert not record.revoked


def test_given_two_created_keys_then_they_differ(keys):
    _, first = keys.create_key("tenant-a", "one")
    _, second = keys.create_key("tenant-a", "two")

    assert first != second


def test_given_a_created_key_when_authorizing_its_bearer_header_then_its_tenant(keys):
    record, key = keys.create_key("tenant-a", "ci")

    principal = keys.authorize(f"Bearer {key}")

    assert principal == Principal(tenant_id="tenant-a", key_id=record.key_id, role="admin")


def test_given_the_scheme_in_any_case_when_authorizing_then_accepted(keys):
    _, key = keys.create_key("tenant-a", "ci")

    assert keys.authorize(f"bearer {key}").tenant_id == "tenant-a"
    assert keys.authorize(f"BEARER  {key} ").tenant_id == "tenant-a"


def test_given_a_chosen_plaintext_when_created_then_that_key_authorizes(keys):
    keys.create_key("local", "dev", plaintext="sk_local_dev_key")

    assert keys.authorize("Bearer sk_local_dev_key").tenant_id == "local"


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "sk_local_dev_key",
        "Basic sk_local_dev_key",
        "Bearer",
        "Bearer ",
        "Bearer two words",
        "Bearer short",
        "Bearer " + "x" * 300,
    ],
)
def test_given_a_missing_or_malformed_header_when_authorizing_then_unauthorized(keys, header):
    keys.create_key("local", "dev", plaintext="sk_local_dev_key")

    with pytest.raises(Unauthorized):
        keys.authorize(header)


def test_given_an_unknown_key_when_authorizing_then_unauthorized(keys):
    keys.create_key("tenant-a", "ci")

    with pytest.raises(Unauthorized):
        keys.authorize("Bearer sk_" + "A" * 40)


def test_given_a_revoked_key_when_authorizing_then_unauthorized(keys, repository):
    key = "sk_revoked_key_123"
    repository.create(
        ApiKeyRecord(
            key_id="key_revoked",
            tenant_id="tenant-a",
            prefix=key[:8],
            name="old",
            role="admin",
            key_hash=hash_key(key),
            created_at="2024-01-01T00:00:00.000Z",
            revoked=True,
        )
    )

    with pytest.raises(Unauthorized, match="revoked"):
        keys.authorize(f"Bearer {key}")


def test_given_an_unknown_role_when_creating_a_key_then_invalid_input(keys):
    with pytest.raises(InvalidInput) as raised:
        keys.create_key("tenant-a", "ci", role="superuser")

    assert raised.value.field == "role"
