"""The Tenants table: one item per tenant (partition key `tenant_id`), with its rate plan."""

from __future__ import annotations

from typing import Any, Protocol

import boto3
from botocore.exceptions import ClientError
from pydantic import BaseModel

from signoff.errors import Conflict, NotFound
from signoff.store import from_item, is_condition_failure, to_item, to_value

_JSON_FIELDS = ("rate_limit",)


class TenantRecord(BaseModel):
    tenant_id: str
    name: str
    plan: str
    created_at: str
    # The tenant's own limit ({requests_per_minute, burst}), instead of its plan's.
    rate_limit: dict[str, int] | None = None


class TenantRepository(Protocol):
    def create(self, record: TenantRecord) -> TenantRecord: ...

    def find(self, tenant_id: str) -> TenantRecord | None: ...

    def get(self, tenant_id: str) -> TenantRecord: ...

    def list(self) -> list[TenantRecord]: ...


class DynamoTenantRepository:
    def __init__(self, table_name: str, client: Any = None) -> None:
        self._table = table_name
        self._client = client or boto3.client("dynamodb")

    def create(self, record: TenantRecord) -> TenantRecord:
        try:
            self._client.put_item(
                TableName=self._table,
                Item=to_item(record.model_dump(), json_fields=_JSON_FIELDS),
                ConditionExpression="attribute_not_exists(tenant_id)",
            )
        except ClientError as error:
            if is_condition_failure(error):
                raise Conflict(f"tenant {record.tenant_id} already exists") from error
            raise
        return record

    def find(self, tenant_id: str) -> TenantRecord | None:
        response = self._client.get_item(
            TableName=self._table, Key={"tenant_id": to_value(tenant_id)}, ConsistentRead=True
        )
        item = response.get("Item")
        if not item:
            return None
        return TenantRecord.model_validate(from_item(item, json_fields=_JSON_FIELDS))

    def get(self, tenant_id: str) -> TenantRecord:
        record = self.find(tenant_id)
        if record is None:
            raise NotFound(f"tenant {tenant_id} not found")
        return record

    def list(self) -> list[TenantRecord]:
        # Only the operator lists tenants, and there are few: a scan is the honest query.
        paginator = self._client.get_paginator("scan")
        return [
            TenantRecord.model_validate(from_item(item, json_fields=_JSON_FIELDS))
            for page in paginator.paginate(TableName=self._table)
            for item in page.get("Items", [])
        ]
