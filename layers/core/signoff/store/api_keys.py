"""The ApiKeys table: keys are found by the sha256 of the key; the key itself is never stored."""

from __future__ import annotations

from typing import Any, Protocol

import boto3
from botocore.exceptions import ClientError
from pydantic import BaseModel

from signoff.errors import Conflict
from signoff.store import from_item, is_condition_failure, to_item, to_value

_TENANT_INDEX = "by_tenant"


class ApiKeyRecord(BaseModel):
    key_id: str
    tenant_id: str
    prefix: str
    name: str
    role: str
    key_hash: str
    created_at: str
    revoked: bool = False


class ApiKeyRepository(Protocol):
    def create(self, record: ApiKeyRecord) -> ApiKeyRecord: ...

    def get_by_hash(self, key_hash: str) -> ApiKeyRecord | None: ...

    def list_for_tenant(self, tenant_id: str) -> list[ApiKeyRecord]: ...


class DynamoApiKeyRepository:
    def __init__(self, table_name: str, client: Any = None) -> None:
        self._table = table_name
        self._client = client or boto3.client("dynamodb")

    def create(self, record: ApiKeyRecord) -> ApiKeyRecord:
        try:
            self._client.put_item(
                TableName=self._table,
                Item=to_item(record.model_dump()),
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
        return ApiKeyRecord.model_validate(from_item(item)) if item else None

    def list_for_tenant(self, tenant_id: str) -> list[ApiKeyRecord]:
        paginator = self._client.get_paginator("query")
        pages = paginator.paginate(
            TableName=self._table,
            IndexName=_TENANT_INDEX,
            KeyConditionExpression="tenant_id = :tenant",
            ExpressionAttributeValues={":tenant": to_value(tenant_id)},
        )
        return [
            ApiKeyRecord.model_validate(from_item(item))
            for page in pages
            for item in page.get("Items", [])
        ]
