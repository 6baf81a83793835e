"""The Workflows table: one item per (tenant, workflow), with its graph and state machine."""

from __future__ import annotations

from typing import Any, Protocol

import boto3
from botocore.exceptions import ClientError
from pydantic import BaseModel, Field

from signoff.errors import Conflict, NotFound
from signoff.store import from_item, is_condition_failure, to_item, to_value

_JSON_FIELDS = ("graph",)
# The state machine variants a workflow may have besides its own (see WorkflowRecord).
VARIANTS = ("step", "resume")


class WorkflowRecord(BaseModel):
    tenant_id: str
    workflow_id: str
    name: str
    description: str = ""
    version: int = Field(ge=1)
    graph: dict[str, Any]
    state_machine_arn: str
    created_at: str
    updated_at: str
    # State machine variants for human in the loop (signoff/reviews/variants.py), created when
    # first needed, each with the workflow version it was compiled from.
    step_state_machine_arn: str | None = None
    step_state_machine_version: int | None = None
    resume_state_machine_arn: str | None = None
    resume_state_machine_version: int | None = None


class WorkflowRepository(Protocol):
    def create(self, record: WorkflowRecord) -> WorkflowRecord: ...

    def get(self, tenant_id: str, workflow_id: str) -> WorkflowRecord: ...

    def find(self, tenant_id: str, workflow_id: str) -> WorkflowRecord | None: ...

    def list(self, tenant_id: str) -> list[WorkflowRecord]: ...

    def update(self, record: WorkflowRecord, *, expected_version: int) -> WorkflowRecord: ...

    def set_variant_state_machine(
        self, record: WorkflowRecord, variant: str, arn: str
    ) -> WorkflowRecord: ...


class DynamoWorkflowRepository:
    def __init__(self, table_name: str, client: Any = None) -> None:
        self._table = table_name
        self._client = client or boto3.client("dynamodb")

    def create(self, record: WorkflowRecord) -> WorkflowRecord:
        try:
            self._client.put_item(
                TableName=self._table,
                Item=to_item(record.model_dump(), json_fields=_JSON_FIELDS),
                ConditionExpression="attribute_not_exists(workflow_id)",
            )
        except ClientError as error:
            if is_condition_failure(error):
                raise Conflict(f"workflow {record.workflow_id} already exists") from error
            raise
        return record

    def find(self, tenant_id: str, workflow_id: str) -> WorkflowRecord | None:
        response = self._client.get_item(
            TableName=self._table,
            Key={"tenant_id": to_value(tenant_id), "workflow_id": to_value(workflow_id)},
            ConsistentRead=True,
        )
        item = response.get("Item")
        return _record(item) if item else None

    def get(self, tenant_id: str, workflow_id: str) -> WorkflowRecord:
        record = self.find(tenant_id, workflow_id)
        if record is None:
            raise NotFound(f"workflow {workflow_id} not found")
        return record

    def list(self, tenant_id: str) -> list[WorkflowRecord]:
        paginator = self._client.get_paginator("query")
        pages = paginator.paginate(
            TableName=self._table,
            KeyConditionExpression="tenant_id = :tenant",
            ExpressionAttributeValues={":tenant": to_value(tenant_id)},
        )
        return [_record(item) for page in pages for item in page.get("Items", [])]

    def update(self, record: WorkflowRecord, *, expected_version: int) -> WorkflowRecord:
        """Store `record` as the next version; someone else's update in between is a Conflict."""
        updated = record.model_copy(update={"version": expected_version + 1})
        try:
            self._client.put_item(
                TableName=self._table,
                Item=to_item(updated.model_dump(), json_fields=_JSON_FIELDS),
                ConditionExpression="attribute_exists(workflow_id) AND version = :expected",
                ExpressionAttributeValues={":expected": to_value(expected_version)},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if not is_condition_failure(error):
                raise
            if "Item" not in error.response:
                raise NotFound(f"workflow {record.workflow_id} not found") from error
            raise Conflict(
                f"workflow {record.workflow_id} changed since version {expected_version}"
            ) from error
        return updated

    def set_variant_state_machine(
        self, record: WorkflowRecord, variant: str, arn: str
    ) -> WorkflowRecord:
        """Store a variant's state machine as compiled from `record`'s version; Conflict when
        the workflow has moved to another version meanwhile."""
        if variant not in VARIANTS:
            raise ValueError(f"unknown state machine variant {variant!r}")
        try:
            response = self._client.update_item(
                TableName=self._table,
                Key={
                    "tenant_id": to_value(record.tenant_id),
                    "workflow_id": to_value(record.workflow_id),
                },
                UpdateExpression="SET #arn = :arn, #version = :version",
                ConditionExpression="attribute_exists(workflow_id) AND version = :version",
                ExpressionAttributeNames={
                    "#arn": f"{variant}_state_machine_arn",
                    "#version": f"{variant}_state_machine_version",
                },
                ExpressionAttributeValues={
                    ":arn": to_value(arn),
                    ":version": to_value(record.version),
                },
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if not is_condition_failure(error):
                raise
            if "Item" not in error.response:
                raise NotFound(f"workflow {record.workflow_id} not found") from error
            raise Conflict(
                f"workflow {record.workflow_id} changed since version {record.version}"
            ) from error
        return _record(response["Attributes"])


def _record(item: dict[str, Any]) -> WorkflowRecord:
    return WorkflowRecord.model_validate(from_item(item, json_fields=_JSON_FIELDS))
