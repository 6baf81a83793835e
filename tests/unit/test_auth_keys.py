"""API keys: creation, hashing, and what `authorize` accepts and refuses."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from moto import mock_aws

from signoff.auth.keys import ApiKeyService, Principal, hash_key
from signoff.errors import Conflict, InvalidInput, NotFound, Unauthorized
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


# ------------------------------------------------------------------ app keys, expiry, rotation


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2030, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


class Workflows:
    def get(self, tenant_id: str, workflow_id: str) -> object:
        if (tenant_id, workflow_id) != ("tenant-a", "wf-1"):
            raise NotFound(f"workflow {workflow_id} not found")
        return object()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def managed(repository: DynamoApiKeyRepository, clock: Clock) -> ApiKeyService:
    return ApiKeyService(
        repository, workflows=Workflows(), rotation_grace_seconds=3600, clock=clock
    )


def test_given_an_app_key_then_it_names_its_workflow_and_authorizes_as_app(managed):
    record, key = managed.create_key("tenant-a", "widget", "app", workflow_id="wf-1")

    principal = managed.authorize(f"Bearer {key}")

    assert record.workflow_id == "wf-1"
    assert (principal.role, principal.workflow_id) == ("app", "wf-1")


def test_given_an_app_key_for_another_tenants_workflow_then_404(managed):
    with pytest.raises(NotFound):
        managed.create_key("tenant-b", "widget", "app", workflow_id="wf-1")
    with pytest.raises(InvalidInput):
        managed.create_key("tenant-a", "widget", "app")


def test_given_a_key_past_its_expiry_then_unauthorized(managed, clock):
    _, key = managed.create_key("tenant-a", "ci", expires_at=clock.now + timedelta(hours=1))
    assert managed.authorize(f"Bearer {key}").expires_at is not None

    clock.now += timedelta(hours=2)

    with pytest.raises(Unauthorized, match="expired"):
        managed.authorize(f"Bearer {key}")


def test_given_a_rotated_key_then_both_work_until_the_grace_period_ends(managed, clock):
    old_record, old_key = managed.create_key("tenant-a", "ci")

    new_record, new_key, retired = managed.rotate_key("tenant-a", old_record.key_id)

    assert new_key != old_key
    assert retired.expires_at == "2030-01-01T01:00:00.000Z"
    assert retired.replaced_by == new_record.key_id
    assert new_record.rotated_from == old_record.key_id
    assert managed.authorize(f"Bearer {old_key}").key_id == old_record.key_id
    clock.now += timedelta(hours=1, seconds=1)
    with pytest.raises(Unauthorized):
        managed.authorize(f"Bearer {old_key}")
    assert managed.authorize(f"Bearer {new_key}").key_id == new_record.key_id


def test_given_keys_then_listing_shows_prefixes_and_never_the_key(managed):
    _, key = managed.create_key("tenant-a", "ci")
    managed.create_key("tenant-b", "theirs")

    listed = managed.list_keys("tenant-a")

    assert [record.prefix for record in listed] == [key[:8]]
    assert key not in str([record.model_dump() for record in listed])


def test_given_another_tenants_key_id_then_get_delete_and_rotate_are_404(managed):
    theirs, _ = managed.create_key("tenant-b", "theirs")
    managed.create_key("tenant-a", "ours")

    for call in (managed.get_key, managed.delete_key, managed.rotate_key):
        with pytest.raises(NotFound):
            call("tenant-a", theirs.key_id)


def test_given_the_last_admin_key_when_deleted_then_409_and_it_still_works(managed):
    record, key = managed.create_key("tenant-a", "only")

    with pytest.raises(Conflict):
        managed.delete_key("tenant-a", record.key_id)
    assert managed.authorize(f"Bearer {key}").key_id == record.key_id


def test_given_a_deleted_key_then_it_stops_working(managed):
    managed.create_key("tenant-a", "keeper")
    record, key = managed.create_key("tenant-a", "leaver")

    managed.delete_key("tenant-a", record.key_id)

    with pytest.raises(Unauthorized):
        managed.authorize(f"Bearer {key}")


def test_given_a_busy_key_then_its_last_use_is_written_at_most_once_a_minute(managed, clock):
    record, key = managed.create_key("tenant-a", "ci")

    writes = []
    for _ in range(3):
        writes.append(managed.record_use(managed.authenticate(key)))
        clock.now += timedelta(seconds=20)
    clock.now += timedelta(seconds=5)
    writes.append(managed.record_use(managed.authenticate(key)))

    assert writes == [True, False, False, True]
    assert managed.get_key("tenant-a", record.key_id).last_used_at == "2030-01-01T00:01:05.000Z"
