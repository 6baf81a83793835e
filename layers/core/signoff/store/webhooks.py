"""The Webhooks and WebhookDeliveries tables: subscriptions and the log of their deliveries.

Webhooks: one item per subscription, keyed by tenant (`tenant_id` + `webhook_id`), so every
lookup is scoped by tenant. The signing secret is stored (the delivery function signs with it)
and never answered after creation; during a rotation's grace period the previous secret is kept
beside it with its end.

WebhookDeliveries: one item per (subscription, event), keyed `tenant_webhook_id` =
`<tenant>#<webhook>` + `delivery_id` = `<event time>#<event id>` (newest first by a descending
query). Each attempt is appended to `attempts` by one conditional update that requires the
delivery still `pending`: a settled delivery (succeeded, failed, disabled) is never reopened, so
a duplicate message cannot deliver an event twice after it succeeded. `expires_at` (TTL) drops
the log after the retention period.
"""

from __future__ import annotations

import json
from typing import Any, Literal, Protocol

import boto3
from botocore.exceptions import ClientError
from pydantic import BaseModel

from signoff.errors import Conflict, NotFound
from signoff.store import dump_json, from_item, is_condition_failure, to_item, to_value

WebhookStatus = Literal["active", "disabled"]
DeliveryStatus = Literal["pending", "succeeded", "failed", "disabled"]
SETTLED_DELIVERY_STATUSES: frozenset[str] = frozenset({"succeeded", "failed", "disabled"})

_WEBHOOK_JSON_FIELDS = ("events",)


class WebhookRecord(BaseModel):
    tenant_id: str
    webhook_id: str
    url: str
    events: list[str]
    description: str | None = None
    status: WebhookStatus = "active"
    secret: str
    # The secret a rotation replaced, still signing until `previous_secret_expires_at`.
    previous_secret: str | None = None
    previous_secret_expires_at: str | None = None
    created_at: str
    updated_at: str
    disabled_at: str | None = None
    disabled_reason: str | None = None

    def signing_secrets(self, now: str) -> list[str]:
        """The secrets a delivery made at `now` (ISO time) is signed with, newest first."""
        secrets = [self.secret]
        if (
            self.previous_secret
            and self.previous_secret_expires_at
            and now < self.previous_secret_expires_at
        ):
            secrets.append(self.previous_secret)
        return secrets


class DeliveryAttempt(BaseModel):
    attempt: int
    at: str
    status_code: int | None = None
    latency_ms: int
    error: str | None = None


class DeliveryRecord(BaseModel):
    tenant_id: str
    webhook_id: str
    delivery_id: str
    event_id: str
    event_type: str
    run_id: str | None = None
    status: DeliveryStatus = "pending"
    attempts: list[DeliveryAttempt] = []
    created_at: str
    updated_at: str
    next_attempt_at: str | None = None


class WebhookRepository(Protocol):
    def create(self, record: WebhookRecord) -> WebhookRecord: ...

    def get(self, tenant_id: str, webhook_id: str) -> WebhookRecord: ...

    def list_for_tenant(self, tenant_id: str) -> list[WebhookRecord]: ...

    def delete(self, tenant_id: str, webhook_id: str) -> None: ...

    def rotate_secret(
        self, record: WebhookRecord, new_secret: str, previous_expires_at: str, now: str
    ) -> WebhookRecord: ...

    def disable(self, tenant_id: str, webhook_id: str, reason: str, now: str) -> bool: ...


class DeliveryRepository(Protocol):
    def create_pending(self, record: DeliveryRecord, expires_at: int) -> bool: ...

    def get(self, tenant_id: str, webhook_id: str, delivery_id: str) -> DeliveryRecord | None: ...

    def record_attempt(
        self,
        record: DeliveryRecord,
        attempt: DeliveryAttempt,
        status: DeliveryStatus,
        *,
        next_attempt_at: str | None,
        expires_at: int,
    ) -> DeliveryRecord | None: ...

    def list_for_webhook(
        self, tenant_id: str, webhook_id: str, *, limit: int = 50, after: str | None = None
    ) -> tuple[list[DeliveryRecord], str | None]: ...


def delivery_id_of(event_time: str, event_id: str) -> str:
    return f"{event_time}#{event_id}"


def _tenant_webhook_id(tenant_id: str, webhook_id: str) -> str:
    return f"{tenant_id}#{webhook_id}"


class DynamoWebhookRepository:
    def __init__(self, table_name: str, client: Any = None) -> None:
        self._table = table_name
        self._client = client or boto3.client("dynamodb")

    def _key(self, tenant_id: str, webhook_id: str) -> dict[str, Any]:
        return {"tenant_id": to_value(tenant_id), "webhook_id": to_value(webhook_id)}

    def create(self, record: WebhookRecord) -> WebhookRecord:
        try:
            self._client.put_item(
                TableName=self._table,
                Item=to_item(record.model_dump(), json_fields=_WEBHOOK_JSON_FIELDS),
                ConditionExpression="attribute_not_exists(webhook_id)",
            )
        except ClientError as error:
            if is_condition_failure(error):
                raise Conflict(f"webhook {record.webhook_id} already exists") from error
            raise
        return record

    def get(self, tenant_id: str, webhook_id: str) -> WebhookRecord:
        response = self._client.get_item(
            TableName=self._table, Key=self._key(tenant_id, webhook_id), ConsistentRead=True
        )
        item = response.get("Item")
        if not item:
            raise NotFound(f"webhook {webhook_id} not found")
        return _webhook(item)

    def list_for_tenant(self, tenant_id: str) -> list[WebhookRecord]:
        paginator = self._client.get_paginator("query")
        pages = paginator.paginate(
            TableName=self._table,
            KeyConditionExpression="tenant_id = :tenant",
            ExpressionAttributeValues={":tenant": to_value(tenant_id)},
            ConsistentRead=True,
        )
        return [_webhook(item) for page in pages for item in page.get("Items", [])]

    def delete(self, tenant_id: str, webhook_id: str) -> None:
        try:
            self._client.delete_item(
                TableName=self._table,
                Key=self._key(tenant_id, webhook_id),
                ConditionExpression="attribute_exists(webhook_id)",
            )
        except ClientError as error:
            if is_condition_failure(error):
                raise NotFound(f"webhook {webhook_id} not found") from error
            raise

    def rotate_secret(
        self, record: WebhookRecord, new_secret: str, previous_expires_at: str, now: str
    ) -> WebhookRecord:
        """Replace the secret the record holds; a concurrent rotation makes this one 409."""
        try:
            response = self._client.update_item(
                TableName=self._table,
                Key=self._key(record.tenant_id, record.webhook_id),
                UpdateExpression=(
                    "SET secret = :new, previous_secret = :old, "
                    "previous_secret_expires_at = :ends, updated_at = :now"
                ),
                ConditionExpression="attribute_exists(webhook_id) AND secret = :old",
                ExpressionAttributeValues={
                    ":new": to_value(new_secret),
                    ":old": to_value(record.secret),
                    ":ends": to_value(previous_expires_at),
                    ":now": to_value(now),
                },
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if is_condition_failure(error):
                self.get(record.tenant_id, record.webhook_id)  # NotFound when it was deleted
                raise Conflict(
                    f"webhook {record.webhook_id}'s secret was rotated meanwhile: retry"
                ) from error
            raise
        return _webhook(response["Attributes"])

    def disable(self, tenant_id: str, webhook_id: str, reason: str, now: str) -> bool:
        """Mark an active subscription disabled; False when it is gone or already disabled."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key=self._key(tenant_id, webhook_id),
                UpdateExpression=(
                    "SET #status = :disabled, disabled_at = :now, disabled_reason = :reason, "
                    "updated_at = :now"
                ),
                ConditionExpression="attribute_exists(webhook_id) AND #status = :active",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":disabled": to_value("disabled"),
                    ":active": to_value("active"),
                    ":now": to_value(now),
                    ":reason": to_value(reason),
                },
            )
        except ClientError as error:
            if is_condition_failure(error):
                return False
            raise
        return True


def _webhook(item: dict[str, Any]) -> WebhookRecord:
    return WebhookRecord.model_validate(from_item(item, json_fields=_WEBHOOK_JSON_FIELDS))


class DynamoDeliveryRepository:
    def __init__(self, table_name: str, client: Any = None) -> None:
        self._table = table_name
        self._client = client or boto3.client("dynamodb")

    def _key(self, tenant_id: str, webhook_id: str, delivery_id: str) -> dict[str, Any]:
        return {
            "tenant_webhook_id": to_value(_tenant_webhook_id(tenant_id, webhook_id)),
            "delivery_id": to_value(delivery_id),
        }

    def create_pending(self, record: DeliveryRecord, expires_at: int) -> bool:
        """Store a new pending delivery; False when this delivery is already logged."""
        attributes = record.model_dump(exclude={"attempts"})
        attributes["tenant_webhook_id"] = _tenant_webhook_id(record.tenant_id, record.webhook_id)
        attributes["expires_at"] = expires_at
        item = to_item(attributes)
        item["attempts"] = {"L": []}
        try:
            self._client.put_item(
                TableName=self._table,
                Item=item,
                ConditionExpression="attribute_not_exists(delivery_id)",
            )
        except ClientError as error:
            if is_condition_failure(error):
                return False
            raise
        return True

    def get(self, tenant_id: str, webhook_id: str, delivery_id: str) -> DeliveryRecord | None:
        response = self._client.get_item(
            TableName=self._table,
            Key=self._key(tenant_id, webhook_id, delivery_id),
            ConsistentRead=True,
        )
        item = response.get("Item")
        return _delivery(item) if item else None

    def record_attempt(
        self,
        record: DeliveryRecord,
        attempt: DeliveryAttempt,
        status: DeliveryStatus,
        *,
        next_attempt_at: str | None,
        expires_at: int,
    ) -> DeliveryRecord | None:
        """Append `attempt` and move the delivery to `status`, only while it is pending (or not
        logged yet: the fan-out's pending write is then made here). None when it was already
        settled: the attempt is not recorded and the caller must not deliver again."""
        names = {"#status": "status"}
        values: dict[str, Any] = {
            ":attempt": {"L": [to_value(dump_json(attempt.model_dump()))]},
            ":empty": {"L": []},
            ":status": to_value(status),
            ":pending": to_value("pending"),
            ":now": to_value(attempt.at),
            ":tenant": to_value(record.tenant_id),
            ":webhook": to_value(record.webhook_id),
            ":event": to_value(record.event_id),
            ":type": to_value(record.event_type),
            ":created": to_value(record.created_at),
            ":expires": to_value(expires_at),
        }
        assignments = [
            "attempts = list_append(if_not_exists(attempts, :empty), :attempt)",
            "#status = :status",
            "updated_at = :now",
            "tenant_id = :tenant",
            "webhook_id = :webhook",
            "event_id = :event",
            "event_type = :type",
            "created_at = if_not_exists(created_at, :created)",
            "expires_at = :expires",
        ]
        if record.run_id is not None:
            assignments.append("run_id = :run")
            values[":run"] = to_value(record.run_id)
        update = "SET " + ", ".join(assignments)
        if next_attempt_at is not None:
            update += ", next_attempt_at = :next"
            values[":next"] = to_value(next_attempt_at)
        else:
            update += " REMOVE next_attempt_at"
        try:
            response = self._client.update_item(
                TableName=self._table,
                Key=self._key(record.tenant_id, record.webhook_id, record.delivery_id),
                UpdateExpression=update,
                ConditionExpression="attribute_not_exists(delivery_id) OR #status = :pending",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if is_condition_failure(error):
                return None
            raise
        return _delivery(response["Attributes"])

    def list_for_webhook(
        self, tenant_id: str, webhook_id: str, *, limit: int = 50, after: str | None = None
    ) -> tuple[list[DeliveryRecord], str | None]:
        """A page of the subscription's deliveries, newest first, and the cursor of the next."""
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "tenant_webhook_id = :key",
            "ExpressionAttributeValues": {
                ":key": to_value(_tenant_webhook_id(tenant_id, webhook_id))
            },
            "ScanIndexForward": False,
            "ConsistentRead": True,
            "Limit": limit,
        }
        if after:
            query["ExclusiveStartKey"] = self._key(tenant_id, webhook_id, after)
        response = self._client.query(**query)
        records = [_delivery(item) for item in response.get("Items", [])]
        last = response.get("LastEvaluatedKey")
        cursor = last["delivery_id"]["S"] if last and len(records) == limit else None
        return records, cursor


def _delivery(item: dict[str, Any]) -> DeliveryRecord:
    attributes = from_item(item)
    attributes.pop("tenant_webhook_id", None)
    attributes.pop("expires_at", None)
    attributes["attempts"] = [json.loads(raw) for raw in attributes.get("attempts") or []]
    return DeliveryRecord.model_validate(attributes)
