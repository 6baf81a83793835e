"""The ApiKeys table: keys are found by the sha256 of the key; the key itself is never stored.

The `by_tenant` index (tenant_id + key_id) lists a tenant's keys and finds one by id, so every
lookup by id is scoped by tenant: another tenant's key id finds nothing. `expires_at_epoch` is the
table's TTL attribute: DynamoDB deletes expired keys some time after they stopped working.
"""

from __future__ import annotations

from typing import Any, Literal, Protocol

import boto3
from botocore.exceptions import ClientError
from pydantic import BaseModel

from signoff.errors import Conflict, NotFound
from signoff.store import from_item, is_condition_failure, parse_iso, to_item, to_value

_TENANT_INDEX = "by_tenant"
_JSON_FIELDS = ("rate_limit",)

KeyRole = Literal["admin", "app"]


class ApiKeyRecord(BaseModel):
    key_id: str
    tenant_id: str
    prefix: str
    name: str
    role: str
    key_hash: str
    created_at: str
    revoked: bool = False
    # App keys act for this one workflow.
    workflow_id: str | None = None
    # When the key stops working (ISO 8601 UTC); None: never. A rotated key gets one.
    expires_at: str | None = None
    # Updated by the authorizer at most once a minute.
    last_used_at: str | None = None
    # The key's own rate limit ({requests_per_minute, burst}); None: the tenant's plan alone.
    rate_limit: dict[str, int] | None = None
    # The key this one replaced (rotation), and the one that replaced it.
    rotated_from: str | None = None
    replaced_by: str | None = None


class ApiKeyRepository(Protocol):
    def create(self, record: ApiKeyRecord) -> ApiKeyRecord: ...

    def get_by_hash(self, key_hash: str) -> ApiKeyRecord | None: ...

    def get(self, tenant_id: str, key_id: str) -> ApiKeyRecord: ...

    def list_for_tenant(self, tenant_id: str) -> list[ApiKeyRecord]: ...

    def delete(self, tenant_id: str, key_id: str) -> None: ...

    def retire(self, record: ApiKeyRecord, expires_at: str, replaced_by: str) -> ApiKeyRecord: ...

    def touch_last_used(self, key_hash: str, now: str, not_since: str) -> bool: ...


def _item(record: ApiKeyRecord) -> dict[str, Any]:
    attributes = record.model_dump()
    if record.expires_at is not None:
        attributes["expires_at_epoch"] = int(parse_iso(record.expires_at).timestamp())
    return to_item(attributes, json_fields=_JSON_FIELDS)


def _record(item: dict[str, Any]) -> ApiKeyRecord:
    attributes = from_item(item, json_fields=_JSON_FIELDS)
    attributes.pop("expires_at_epoch", None)
    return ApiKeyRecord.model_validate(attributes)


class DynamoApiKeyRepository:
    def __init__(self, table_name: str, client: Any = None) -> None:
        self._table = table_name
        self._client = client or boto3.client("dynamodb")

    def create(self, record: ApiKeyRecord) -> ApiKeyRecord:
        try:
            self._client.put_item(
                TableName=self._table,
                Item=_item(record),
                ConditionExpression="attribute_not_exists(key_hash)",
            )
        except ClientError as error:
            if is_condition_failure(error):
                raise Conflict("this API key already exists") from error
            raise
        return record

    def get_by_hash(self, key_hash: str) -> ApiKeyRecord | None:
        response = self._client.get_item(
            TableName=self._table, Key={"key_hash": to_value(key_hash)}, ConsistentRead=True
        )
        item = response.get("Item")
        return _record(item) if item else None

    def get(self, tenant_id: str, key_id: str) -> ApiKeyRecord:
        response = self._client.query(
            TableName=self._table,
            IndexName=_TENANT_INDEX,
            KeyConditionExpression="tenant_id = :tenant AND key_id = :key",
            ExpressionAttributeValues={":tenant": to_value(tenant_id), ":key": to_value(key_id)},
        )
        items = response.get("Items") or []
        if not items:
            raise NotFound(f"API key {key_id} not found")
        return _record(items[0])

    def list_for_tenant(self, tenant_id: str) -> list[ApiKeyRecord]:
        paginator = self._client.get_paginator("query")
        pages = paginator.paginate(
            TableName=self._table,
            IndexName=_TENANT_INDEX,
            KeyConditionExpression="tenant_id = :tenant",
            ExpressionAttributeValues={":tenant": to_value(tenant_id)},
        )
        return [_record(item) for page in pages for item in page.get("Items", [])]

    def delete(self, tenant_id: str, key_id: str) -> None:
        record = self.get(tenant_id, key_id)
        try:
            self._client.delete_item(
                TableName=self._table,
                Key={"key_hash": to_value(record.key_hash)},
                ConditionExpression="tenant_id = :tenant AND key_id = :key",
                ExpressionAttributeValues={
                    ":tenant": to_value(tenant_id),
                    ":key": to_value(key_id),
                },
            )
        except ClientError as error:
            if is_condition_failure(error):
                raise NotFound(f"API key {key_id} not found") from error
            raise

    def retire(self, record: ApiKeyRecord, expires_at: str, replaced_by: str) -> ApiKeyRecord:
        """Give a rotated key its end; a key that already ends sooner keeps its own end."""
        ends = min(expires_at, record.expires_at) if record.expires_at else expires_at
        try:
            response = self._client.update_item(
                TableName=self._table,
                Key={"key_hash": to_value(record.key_hash)},
                UpdateExpression=(
                    "SET expires_at = :ends, expires_at_epoch = :epoch, replaced_by = :by"
                ),
                ConditionExpression="tenant_id = :tenant AND key_id = :key",
                ExpressionAttributeValues={
                    ":ends": to_value(ends),
                    ":epoch": to_value(int(parse_iso(ends).timestamp())),
                    ":by": to_value(replaced_by),
                    ":tenant": to_value(record.tenant_id),
                    ":key": to_value(record.key_id),
                },
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if is_condition_failure(error):
                raise NotFound(f"API key {record.key_id} not found") from error
            raise
        return _record(response["Attributes"])

    def touch_last_used(self, key_hash: str, now: str, not_since: str) -> bool:
        """Record a use, unless one was recorded at or after `not_since`; True when written."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key={"key_hash": to_value(key_hash)},
                UpdateExpression="SET last_used_at = :now",
                ConditionExpression=(
                    "attribute_exists(key_hash) AND "
                    "(attribute_not_exists(last_used_at) OR last_used_at < :since)"
                ),
                ExpressionAttributeValues={":now": to_value(now), ":since": to_value(not_since)},
            )
        except ClientError as error:
            if is_condition_failure(error):
                return False
            raise
        return True
