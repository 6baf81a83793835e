"""The Workflows table: one item per (tenant, workflow) with its newest version, and one item per
version of it.

The head item (`workflow_id` = the workflow's id) is what GET /workflows answers: the newest graph
and its state machine. Each version is kept as its own item in the same partition, under the sort
key `<workflow id>#v<version, zero-padded>` ('#' never occurs in a workflow id), with `version_of`
naming its workflow: old versions stay runnable, and a run reads the version it was started on.
A version's graph never changes once written. Head and version item are written in one
transaction, so the head is never at a version that has no item.
"""

from __future__ import annotations

import uuid
from typing import Any, Protocol

import boto3
from botocore.exceptions import ClientError
from pydantic import BaseModel, Field

from signoff.errors import Conflict, NotFound
from signoff.store import from_item, is_condition_failure, to_item, to_value

_JSON_FIELDS = ("graph",)
# The state machine variants a workflow may have besides its own (see WorkflowRecord).
VARIANTS = ("step", "resume")
_VERSION_SEPARATOR = "#v"
_VERSION_DIGITS = 10


class WorkflowVersionNotFound(NotFound):
    """The workflow exists but has no such version."""

    code = "workflow_version_not_found"


class WorkflowVersionConflict(Conflict):
    """The workflow moved to another version than the one the update was based on."""

    code = "workflow_version_conflict"


class WorkflowRecord(BaseModel):
    """A workflow at one version: the head item (the newest version) or a version item.

    `created_at` is when the workflow was created; `updated_at` when this version was made.
    """

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
    # This version's id: a UUID per version, as Dify names a published workflow (None only on
    # a record not stored yet; the repository gives one).
    version_id: str | None = None
    # Who made this version (the principal's actor), when known.
    version_created_by: str | None = None


class WorkflowRepository(Protocol):
    def create(self, record: WorkflowRecord) -> WorkflowRecord: ...

    def get(self, tenant_id: str, workflow_id: str) -> WorkflowRecord: ...

    def find(self, tenant_id: str, workflow_id: str) -> WorkflowRecord | None: ...

    def list(self, tenant_id: str) -> list[WorkflowRecord]: ...

    def update(
        self, record: WorkflowRecord, *, expected_version: int, version_id: str | None = None
    ) -> WorkflowRecord: ...

    def get_version(self, tenant_id: str, workflow_id: str, version: int) -> WorkflowRecord: ...

    def list_versions(self, tenant_id: str, workflow_id: str) -> list[WorkflowRecord]: ...

    def find_version_by_id(
        self, tenant_id: str, version_id: str, *, workflow_id: str | None = None
    ) -> WorkflowRecord | None: ...

    def set_variant_state_machine(
        self, record: WorkflowRecord, variant: str, arn: str
    ) -> WorkflowRecord: ...


def version_key(workflow_id: str, version: int) -> str:
    """The sort key of a workflow's version item."""
    return f"{workflow_id}{_VERSION_SEPARATOR}{version:0{_VERSION_DIGITS}d}"


class DynamoWorkflowRepository:
    def __init__(self, table_name: str, client: Any = None) -> None:
        self._table = table_name
        self._client = client or boto3.client("dynamodb")

    # ------------------------------------------------------------------ the head

    def create(self, record: WorkflowRecord) -> WorkflowRecord:
        """Store a new workflow: its head and its first version's item, together."""
        stored = record.model_copy(update={"version_id": record.version_id or _new_version_id()})
        try:
            self._client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": self._head_item(stored),
                            "ConditionExpression": "attribute_not_exists(workflow_id)",
                        }
                    },
                    {"Put": self._version_put(stored)},
                ]
            )
        except ClientError as error:
            if _cancelled(error):
                raise Conflict(f"workflow {record.workflow_id} already exists") from error
            raise
        return stored

    def find(self, tenant_id: str, workflow_id: str) -> WorkflowRecord | None:
        item = self._get_item(tenant_id, workflow_id)
        return self._with_version_id(_record(item)) if item else None

    def get(self, tenant_id: str, workflow_id: str) -> WorkflowRecord:
        record = self.find(tenant_id, workflow_id)
        if record is None:
            raise NotFound(f"workflow {workflow_id} not found")
        return record

    def list(self, tenant_id: str) -> list[WorkflowRecord]:
        """The tenant's workflows (their heads; version items are left out)."""
        paginator = self._client.get_paginator("query")
        pages = paginator.paginate(
            TableName=self._table,
            KeyConditionExpression="tenant_id = :tenant",
            FilterExpression="attribute_not_exists(version_of)",
            ExpressionAttributeValues={":tenant": to_value(tenant_id)},
        )
        return [
            self._with_version_id(_record(item)) for page in pages for item in page.get("Items", [])
        ]

    def update(
        self, record: WorkflowRecord, *, expected_version: int, version_id: str | None = None
    ) -> WorkflowRecord:
        """Store `record` as version `expected_version + 1` (a new version item, and the head)
        with the id `version_id` (a new one when not given); WorkflowVersionConflict when the
        workflow is no longer at `expected_version`."""
        # Reading the head makes the version item of a workflow stored before versions were
        # kept, so the version this update is based on stays readable.
        self.get(record.tenant_id, record.workflow_id)
        updated = record.model_copy(
            update={
                "version": expected_version + 1,
                "version_id": version_id or _new_version_id(),
                # A new version has no variant yet: each version compiles its own.
                "step_state_machine_arn": None,
                "step_state_machine_version": None,
                "resume_state_machine_arn": None,
                "resume_state_machine_version": None,
            }
        )
        try:
            self._client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": self._head_item(updated),
                            "ConditionExpression": (
                                "attribute_exists(workflow_id) AND version = :expected"
                            ),
                            "ExpressionAttributeValues": {":expected": to_value(expected_version)},
                        }
                    },
                    {"Put": self._version_put(updated)},
                ]
            )
        except ClientError as error:
            if not _cancelled(error):
                raise
            if self.find(record.tenant_id, record.workflow_id) is None:
                raise NotFound(f"workflow {record.workflow_id} not found") from error
            raise WorkflowVersionConflict(
                f"workflow {record.workflow_id} changed since version {expected_version}"
            ) from error
        return updated

    # ------------------------------------------------------------------ versions

    def get_version(self, tenant_id: str, workflow_id: str, version: int) -> WorkflowRecord:
        """The workflow as of `version`; NotFound without the workflow, WorkflowVersionNotFound
        without that version."""
        item = self._get_item(tenant_id, version_key(workflow_id, version))
        if item:
            return _record(item)
        head = self.get(tenant_id, workflow_id)
        if head.version != version:
            raise WorkflowVersionNotFound(f"workflow {workflow_id} has no version {version}")
        return self._ensure_version_item(head)

    def list_versions(self, tenant_id: str, workflow_id: str) -> list[WorkflowRecord]:
        """Every version of the workflow, oldest first; NotFound without the workflow."""
        head = self.get(tenant_id, workflow_id)
        paginator = self._client.get_paginator("query")
        pages = paginator.paginate(
            TableName=self._table,
            KeyConditionExpression="tenant_id = :tenant AND begins_with(workflow_id, :prefix)",
            ExpressionAttributeValues={
                ":tenant": to_value(tenant_id),
                ":prefix": to_value(f"{workflow_id}{_VERSION_SEPARATOR}"),
            },
            ConsistentRead=True,
        )
        versions = [_record(item) for page in pages for item in page.get("Items", [])]
        if not any(version.version == head.version for version in versions):
            versions.append(self._ensure_version_item(head))
        return sorted(versions, key=lambda version: version.version)

    def find_version_by_id(
        self, tenant_id: str, version_id: str, *, workflow_id: str | None = None
    ) -> WorkflowRecord | None:
        """The version with this id among the workflow's (or, without `workflow_id`, among the
        tenant's): a Query in the tenant's partition, never another tenant's."""
        if workflow_id is not None:
            condition = "tenant_id = :tenant AND begins_with(workflow_id, :prefix)"
            values = {":prefix": to_value(f"{workflow_id}{_VERSION_SEPARATOR}")}
        else:
            condition, values = "tenant_id = :tenant", {}
        paginator = self._client.get_paginator("query")
        pages = paginator.paginate(
            TableName=self._table,
            KeyConditionExpression=condition,
            FilterExpression="attribute_exists(version_of) AND version_id = :version_id",
            ExpressionAttributeValues={
                ":tenant": to_value(tenant_id),
                ":version_id": to_value(version_id),
                **values,
            },
        )
        for page in pages:
            for item in page.get("Items", []):
                return _record(item)
        return None

    def set_variant_state_machine(
        self, record: WorkflowRecord, variant: str, arn: str
    ) -> WorkflowRecord:
        """Store a variant's state machine on the version `record` is at (and on the head while
        that version is the newest). NotFound when the workflow has no such version."""
        if variant not in VARIANTS:
            raise ValueError(f"unknown state machine variant {variant!r}")
        names = {
            "#arn": f"{variant}_state_machine_arn",
            "#version": f"{variant}_state_machine_version",
        }
        values = {":arn": to_value(arn), ":version": to_value(record.version)}
        self.get_version(record.tenant_id, record.workflow_id, record.version)
        response = self._client.update_item(
            TableName=self._table,
            Key=_key(record.tenant_id, version_key(record.workflow_id, record.version)),
            UpdateExpression="SET #arn = :arn, #version = :version",
            ConditionExpression="attribute_exists(workflow_id)",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            ReturnValues="ALL_NEW",
        )
        try:
            self._client.update_item(
                TableName=self._table,
                Key=_key(record.tenant_id, record.workflow_id),
                UpdateExpression="SET #arn = :arn, #version = :version",
                ConditionExpression="attribute_exists(workflow_id) AND version = :version",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except ClientError as error:
            # The head moved on to a newer version: the variant belongs to its version only.
            if not is_condition_failure(error):
                raise
        return _record(response["Attributes"])

    # ------------------------------------------------------------------ items

    def _get_item(self, tenant_id: str, sort_key: str) -> dict[str, Any] | None:
        response = self._client.get_item(
            TableName=self._table, Key=_key(tenant_id, sort_key), ConsistentRead=True
        )
        return response.get("Item")

    @staticmethod
    def _head_item(record: WorkflowRecord) -> dict[str, Any]:
        return to_item(record.model_dump(), json_fields=_JSON_FIELDS)

    def _version_put(self, record: WorkflowRecord) -> dict[str, Any]:
        attributes = record.model_dump() | {
            "workflow_id": version_key(record.workflow_id, record.version),
            "version_of": record.workflow_id,
        }
        return {
            "TableName": self._table,
            "Item": to_item(attributes, json_fields=_JSON_FIELDS),
            "ConditionExpression": "attribute_not_exists(workflow_id)",
        }

    def _with_version_id(self, head: WorkflowRecord) -> WorkflowRecord:
        """The head with its version id: a workflow stored before versions were kept gets its
        version item (and the head that item's id) the first time it is read."""
        if head.version_id is not None:
            return head
        version = self._ensure_version_item(head)
        return head.model_copy(update={"version_id": version.version_id})

    def _ensure_version_item(self, head: WorkflowRecord) -> WorkflowRecord:
        """The version item of the head's version, written from the head when it is missing (a
        workflow stored before versions were kept); a head without a version id gets the
        item's."""
        version = head.model_copy(update={"version_id": head.version_id or _new_version_id()})
        try:
            self._client.put_item(**self._version_put(version))
        except ClientError as error:
            if not is_condition_failure(error):
                raise
            # There already: whoever wrote it first gave it its id.
            item = self._get_item(head.tenant_id, version_key(head.workflow_id, head.version))
            if item:
                version = _record(item)
        if head.version_id is None and version.version_id is not None:
            self._set_head_version_id(head, version.version_id)
        return version

    def _set_head_version_id(self, head: WorkflowRecord, version_id: str) -> None:
        """Give a head stored without a version id its version item's id. Only while the head
        is still at that version and has none: a racing reader writes the same id (the item's),
        and an update that made a newer version wrote the head with that version's own."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key=_key(head.tenant_id, head.workflow_id),
                UpdateExpression="SET version_id = :version_id",
                ConditionExpression=(
                    "attribute_exists(workflow_id) AND version = :version "
                    "AND attribute_not_exists(version_id)"
                ),
                ExpressionAttributeValues={
                    ":version_id": to_value(version_id),
                    ":version": to_value(head.version),
                },
            )
        except ClientError as error:
            if not is_condition_failure(error):
                raise


def _key(tenant_id: str, sort_key: str) -> dict[str, Any]:
    return {"tenant_id": to_value(tenant_id), "workflow_id": to_value(sort_key)}


def _new_version_id() -> str:
    return str(uuid.uuid4())


def _cancelled(error: ClientError) -> bool:
    """A transaction cancelled because one of its conditions failed."""
    if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
        return False
    reasons = error.response.get("CancellationReasons") or []
    return not reasons or any(reason.get("Code") == "ConditionalCheckFailed" for reason in reasons)


def _record(item: dict[str, Any]) -> WorkflowRecord:
    attributes = from_item(item, json_fields=_JSON_FIELDS)
    version_of = attributes.pop("version_of", None)
    if version_of is not None:
        attributes["workflow_id"] = version_of
    return WorkflowRecord.model_validate(attributes)
