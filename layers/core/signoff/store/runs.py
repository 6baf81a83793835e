"""The Runs table: one item per (tenant, run), moved through its statuses by conditional writes.

pending -> running -> a terminal status. A terminal run is never reopened: every write that moves a
run names the statuses it may move from, and DynamoDB refuses the rest.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Protocol

import boto3
from botocore.exceptions import ClientError
from pydantic import BaseModel

from signoff.errors import Conflict, NotFound
from signoff.store import dump_json, from_item, is_condition_failure, to_item, to_value, utc_now_iso

_JSON_FIELDS = ("inputs", "outputs", "error")


class RunStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    PAUSED = "paused"
    SUCCEEDED = "succeeded"
    PARTIAL_SUCCEEDED = "partial-succeeded"
    FAILED = "failed"
    STOPPED = "stopped"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATUSES


TERMINAL_STATUSES = frozenset(
    {RunStatus.SUCCEEDED, RunStatus.PARTIAL_SUCCEEDED, RunStatus.FAILED, RunStatus.STOPPED}
)
NON_TERMINAL_STATUSES = frozenset(set(RunStatus) - TERMINAL_STATUSES)


class RunRecord(BaseModel):
    tenant_id: str
    run_id: str
    workflow_id: str
    workflow_version: int
    status: RunStatus = RunStatus.PENDING
    inputs: dict[str, Any]
    outputs: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    user: str | None = None
    execution_arn: str | None = None
    created_at: str
    started_at: str | None = None
    finished_at: str | None = None


class RunRepository(Protocol):
    def create(self, record: RunRecord) -> RunRecord: ...

    def mark_running(self, tenant_id: str, run_id: str, execution_arn: str) -> RunRecord: ...

    def settle(
        self,
        tenant_id: str,
        run_id: str,
        status: RunStatus,
        outputs: dict[str, Any] | None = None,
        error: dict[str, Any] | None = None,
    ) -> RunRecord: ...

    def get(self, tenant_id: str, run_id: str) -> RunRecord: ...

    def list(self, tenant_id: str) -> list[RunRecord]: ...


class DynamoRunRepository:
    def __init__(self, table_name: str, client: Any = None) -> None:
        self._table = table_name
        self._client = client or boto3.client("dynamodb")

    def create(self, record: RunRecord) -> RunRecord:
        if record.status is not RunStatus.PENDING:
            raise ValueError("a run is created pending")
        try:
            self._client.put_item(
                TableName=self._table,
                Item=to_item(record.model_dump(mode="json"), json_fields=_JSON_FIELDS),
                ConditionExpression="attribute_not_exists(run_id)",
            )
        except ClientError as error:
            if is_condition_failure(error):
                raise Conflict(f"run {record.run_id} already exists") from error
            raise
        return record

    def mark_running(self, tenant_id: str, run_id: str, execution_arn: str) -> RunRecord:
        """pending -> running with its execution. A run its execution already settled keeps its
        terminal status (a fast execution can finish before this write) but still gets the ARN."""
        try:
            response = self._client.update_item(
                TableName=self._table,
                Key=self._key(tenant_id, run_id),
                UpdateExpression="SET #status = :running, execution_arn = :arn, started_at = :now",
                ConditionExpression="#status = :pending",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":running": to_value(RunStatus.RUNNING.value),
                    ":pending": to_value(RunStatus.PENDING.value),
                    ":arn": to_value(execution_arn),
                    ":now": to_value(utc_now_iso()),
                },
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if not is_condition_failure(error):
                raise
            stored = self._stored_after_refusal(error, run_id)
            if stored.execution_arn is None:
                return self._record_execution_arn(tenant_id, run_id, execution_arn)
            if stored.execution_arn != execution_arn:
                raise Conflict(f"run {run_id} already runs as another execution") from error
            return stored
        return _record(response["Attributes"])

    def settle(
        self,
        tenant_id: str,
        run_id: str,
        status: RunStatus,
        outputs: dict[str, Any] | None = None,
        error: dict[str, Any] | None = None,
    ) -> RunRecord:
        """Bring a run to a terminal status once. Settling a terminal run changes nothing and
        answers with the stored record."""
        status = RunStatus(status)
        if not status.is_terminal:
            raise ValueError(f"{status} is not a terminal status")
        placeholders = {
            f":from{index}": to_value(value.value)
            for index, value in enumerate(sorted(NON_TERMINAL_STATUSES))
        }
        try:
            response = self._client.update_item(
                TableName=self._table,
                Key=self._key(tenant_id, run_id),
                UpdateExpression=(
                    "SET #status = :status, outputs = :outputs, #error = :error, finished_at = :now"
                ),
                ConditionExpression=f"#status IN ({', '.join(placeholders)})",
                ExpressionAttributeNames={"#status": "status", "#error": "error"},
                ExpressionAttributeValues={
                    ":status": to_value(status.value),
                    ":outputs": to_value(dump_json(outputs)),
                    ":error": to_value(dump_json(error)),
                    ":now": to_value(utc_now_iso()),
                    **placeholders,
                },
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as failure:
            if not is_condition_failure(failure):
                raise
            return self._stored_after_refusal(failure, run_id)
        return _record(response["Attributes"])

    def find(self, tenant_id: str, run_id: str) -> RunRecord | None:
        response = self._client.get_item(
            TableName=self._table, Key=self._key(tenant_id, run_id), ConsistentRead=True
        )
        item = response.get("Item")
        return _record(item) if item else None

    def get(self, tenant_id: str, run_id: str) -> RunRecord:
        record = self.find(tenant_id, run_id)
        if record is None:
            raise NotFound(f"run {run_id} not found")
        return record

    def list(self, tenant_id: str) -> list[RunRecord]:
        paginator = self._client.get_paginator("query")
        pages = paginator.paginate(
            TableName=self._table,
            KeyConditionExpression="tenant_id = :tenant",
            ExpressionAttributeValues={":tenant": to_value(tenant_id)},
        )
        return [_record(item) for page in pages for item in page.get("Items", [])]

    def _record_execution_arn(self, tenant_id: str, run_id: str, execution_arn: str) -> RunRecord:
        try:
            response = self._client.update_item(
                TableName=self._table,
                Key=self._key(tenant_id, run_id),
                UpdateExpression=(
                    "SET execution_arn = :arn, started_at = if_not_exists(started_at, :now)"
                ),
                ConditionExpression=(
                    "attribute_exists(run_id) AND attribute_not_exists(execution_arn)"
                ),
                ExpressionAttributeValues={
                    ":arn": to_value(execution_arn),
                    ":now": to_value(utc_now_iso()),
                },
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if not is_condition_failure(error):
                raise
            return self._stored_after_refusal(error, run_id)
        return _record(response["Attributes"])

    @staticmethod
    def _stored_after_refusal(error: ClientError, run_id: str) -> RunRecord:
        item = error.response.get("Item")
        if not item:
            raise NotFound(f"run {run_id} not found") from error
        return _record(item)

    @staticmethod
    def _key(tenant_id: str, run_id: str) -> dict[str, Any]:
        return {"tenant_id": to_value(tenant_id), "run_id": to_value(run_id)}


def _record(item: dict[str, Any]) -> RunRecord:
    return RunRecord.model_validate(from_item(item, json_fields=_JSON_FIELDS))
