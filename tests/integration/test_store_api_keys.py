"""The ApiKeys table: keys found by hash, created once, listed per tenant."""

from __future__ import annotations

from typing import Any

import pytest

from signoff.auth.keys import ApiKeyService, hash_key
from signoff.errors import Conflict
from signoff.store.api_keys import DynamoApiKeyRepository

pytestmark = pytest.mark.integration


@pytest.fixture
def repository(dynamodb: Any, tables: dict[str, str]) -> DynamoApiKeyRepository:
    return DynamoApiKeyRepository(tables["ApiKeysTable"], client=dynamodb)


def test_given_a_created_key_then_the_table_holds_its_hash_and_never_the_key(
    repository, dynamodb, tables
):
    record, key = ApiKeyService(repository).create_key("tenant-a", "ci")

    items = dynamodb.scan(TableName=tables["ApiKeysTable"])["Items"]

    assert len(items) == 1
    assert key not in str(items)
    assert items[0]["key_hash"]["S"] == hash_key(key) == record.key_hash
    assert repository.get_by_hash(hash_key(key)) == record


def test_given_the_same_key_twice_when_created_then_conflict(repository):
    service = ApiKeyService(repository)
    service.create_key("tenant-a", "dev", plaintext="sk_dev_local_key")

    with pytest.raises(Conflict):
        service.create_key("tenant-b", "dev", plaintext="sk_dev_local_key")


def test_given_keys_of_two_tenants_when_listed_then_each_tenant_sees_its_own(repository):
    service = ApiKeyService(repository)
    first, _ = service.create_key("tenant-a", "one")
    second, _ = service.create_key("tenant-a", "two")
    service.create_key("tenant-b", "three")

    listed = repository.list_for_tenant("tenant-a")

    assert sorted(record.key_id for record in listed) == sorted([first.key_id, second.key_id])


def test_given_an_unknown_hash_then_no_record(repository):
    assert repository.get_by_hash(hash_key("sk_nobody")) is None
