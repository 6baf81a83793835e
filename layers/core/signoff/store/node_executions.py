"""The NodeExecutions table: one item per node attempt of a run, written running then finished.

Keys (docs/internals.md): partition `tenant_run_id` = `<tenant>#<run>`, sort `node_execution_id` =
`<started_at_ms:013d>#<node_id>#<attempt:03d>`, so a run's executions read back in start order.
A finished execution is never reopened or finished twice: `finish` is conditional on `running`.

A node inside iterations and loops runs once per item and round: its executions say which
(`index_path`, like a review's), and their ids end with `@<i>.<j>` (the indexes, outermost
first), so the items of a parallel iteration starting in the same millisecond stay apart.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

import boto3
from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field

from signoff.errors import Conflict, NotFound
from signoff.store import dump_json, from_item, is_condition_failure, to_item, to_value
from signoff.store.reviews import IndexStep, place_of

_JSON_FIELDS = ("inputs", "outputs", "error", "index_path")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)
# Single-node (debug) runs of a workflow's node, newest first (template.yaml: a sparse index; only
# a debug run's records carry `debug_node`).
BY_DEBUG_NODE_INDEX = "by_debug_node"


class NodeExecutionStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    # Failed, and the node's error strategy (default-value, fail-branch) handled it: the
    # execution has both its error and the outputs the strategy gave it; the run goes on.
    EXCEPTION = "exception"


class NodeFailure(BaseModel):
    """Why an execution failed: `type` is the error type Step Functions' Retry/Catch see."""

    model_config = ConfigDict(frozen=True)

    type: str
    message: str


class NodeExecution(BaseModel):
    model_config = ConfigDict(frozen=True)

    node_execution_id: str
    tenant_id: str
    run_id: str
    node_id: str
    node_type: str
    title: str = ""
    attempt: int = Field(default=1, ge=1)
    status: NodeExecutionStatus = NodeExecutionStatus.RUNNING
    inputs: dict[str, Any] = Field(default_factory=dict)
    outputs: dict[str, Any] | None = None
    error: NodeFailure | None = None
    started_at: str
    finished_at: str | None = None
    elapsed_ms: int | None = Field(default=None, ge=0)
    # Inside iterations and loops (null at the top level), as on a review: the innermost
    # container, the item's index in the innermost iteration and the round's in the innermost
    # loop (0-based), and `index_path`: every container around the node, outermost first.
    container_id: str | None = None
    item_index: int | None = None
    loop_index: int | None = None
    index_path: list[IndexStep] | None = None

    @property
    def tenant_run_id(self) -> str:
        return tenant_run_id(self.tenant_id, self.run_id)

    @property
    def place(self) -> tuple[tuple[str, int], ...]:
        """Which item and round this attempt belongs to, comparable (empty at the top level)."""
        return place_of(self.index_path)

    @classmethod
    def begin(
        cls,
        *,
        tenant_id: str,
        run_id: str,
        node_id: str,
        node_type: str,
        title: str = "",
        attempt: int = 1,
        inputs: dict[str, Any] | None = None,
        started_at: datetime,
        index_path: list[IndexStep] | None = None,
        item_index: int | None = None,
        loop_index: int | None = None,
    ) -> NodeExecution:
        """A running execution that started at `started_at` (an aware datetime); inside
        iterations and loops, `index_path` and the innermost item's and round's indexes."""
        path = list(index_path) if index_path else None
        return cls(
            node_execution_id=node_execution_id(started_at, node_id, attempt, path),
            tenant_id=tenant_id,
            run_id=run_id,
            node_id=node_id,
            node_type=node_type,
            title=title,
            attempt=attempt,
            inputs=inputs or {},
            started_at=format_time(started_at),
            container_id=path[-1].container_id if path else None,
            item_index=item_index,
            loop_index=loop_index,
            index_path=path,
        )

    def succeeded(self, outputs: dict[str, Any], finished_at: datetime) -> NodeExecution:
        return self._finished(NodeExecutionStatus.SUCCEEDED, finished_at, outputs=outputs)

    def failed(self, error: NodeFailure, finished_at: datetime) -> NodeExecution:
        return self._finished(NodeExecutionStatus.FAILED, finished_at, error=error)

    def excepted(
        self, error: NodeFailure, outputs: dict[str, Any], finished_at: datetime
    ) -> NodeExecution:
        """Failed with `error`, handled by the error strategy, which reported `outputs`."""
        return self._finished(
            NodeExecutionStatus.EXCEPTION, finished_at, outputs=outputs, error=error
        )

    def _finished(
        self,
        status: NodeExecutionStatus,
        finished_at: datetime,
        *,
        outputs: dict[str, Any] | None = None,
        error: NodeFailure | None = None,
    ) -> NodeExecution:
        if self.status is not NodeExecutionStatus.RUNNING:
            raise ValueError(f"node execution {self.node_execution_id} is already {self.status}")
        finished = format_time(finished_at)
        elapsed = (parse_time(finished) - parse_time(self.started_at)) // _MILLISECOND
        return self.model_copy(
            update={
                "status": status,
                "outputs": outputs,
                "error": error,
                "finished_at": finished,
                "elapsed_ms": max(0, elapsed),
            }
        )


def tenant_run_id(tenant_id: str, run_id: str) -> str:
    return f"{tenant_id}#{run_id}"


def node_execution_id(
    started_at: datetime, node_id: str, attempt: int, index_path: list[IndexStep] | None = None
) -> str:
    if started_at.tzinfo is None:
        raise ValueError("times are stored from aware datetimes")
    started_ms = (started_at - _EPOCH) // _MILLISECOND
    key = f"{started_ms:013d}#{node_id}#{attempt:03d}"
    if index_path:
        key += "@" + ".".join(str(step.index) for step in index_path)
    return key


def debug_node_key(tenant_id: str, workflow_id: str, node_id: str) -> str:
    return f"{tenant_id}#{workflow_id}#{node_id}"


def format_time(moment: datetime) -> str:
    """ISO 8601 UTC with milliseconds, as every stored time."""
    if moment.tzinfo is None:
        raise ValueError("times are stored from aware datetimes")
    utc = moment.astimezone(UTC)
    return utc.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class NodeExecutionRepository(Protocol):
    def start(self, execution: NodeExecution) -> NodeExecution: ...

    def finish(self, execution: NodeExecution) -> NodeExecution: ...

    def list_for_run(self, tenant_id: str, run_id: str) -> list[NodeExecution]: ...


class DynamoNodeExecutionRepository:
    def __init__(self, table_name: str, client: Any = None) -> None:
        self._table = table_name
        self._client = client or boto3.client("dynamodb")

    def start(self, execution: NodeExecution) -> NodeExecution:
        """Record a running execution; the same execution id cannot be started twice."""
        if execution.status is not NodeExecutionStatus.RUNNING:
            raise ValueError("a node execution starts running")
        attributes = {"tenant_run_id": execution.tenant_run_id, **execution.model_dump(mode="json")}
        try:
            self._client.put_item(
                TableName=self._table,
                Item=to_item(attributes, json_fields=_JSON_FIELDS),
                ConditionExpression="attribute_not_exists(node_execution_id)",
            )
        except ClientError as error:
            if is_condition_failure(error):
                raise Conflict(
                    f"node execution {execution.node_execution_id} already exists"
                ) from error
            raise
        return execution

    def finish(self, execution: NodeExecution) -> NodeExecution:
        """Move a running execution to its terminal status, with its outputs or its error."""
        if execution.status is NodeExecutionStatus.RUNNING or execution.finished_at is None:
            raise ValueError(
                "finish takes a finished execution (see NodeExecution.succeeded/failed)"
            )
        assignments = ["#status = :status", "finished_at = :finished_at", "elapsed_ms = :elapsed"]
        values: dict[str, Any] = {
            ":status": to_value(execution.status.value),
            ":running": to_value(NodeExecutionStatus.RUNNING.value),
            ":finished_at": to_value(execution.finished_at),
            ":elapsed": to_value(execution.elapsed_ms or 0),
        }
        if execution.outputs is not None:
            assignments.append("outputs = :outputs")
            values[":outputs"] = to_value(dump_json(execution.outputs))
        if execution.error is not None:
            assignments.append("#error = :error")
            values[":error"] = to_value(dump_json(execution.error.model_dump()))
        names = {"#status": "status"}
        if execution.error is not None:
            names["#error"] = "error"
        try:
            self._client.update_item(
                TableName=self._table,
                Key=self._key(execution.tenant_run_id, execution.node_execution_id),
                UpdateExpression="SET " + ", ".join(assignments),
                ConditionExpression="#status = :running",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if not is_condition_failure(error):
                raise
            if not error.response.get("Item"):
                raise NotFound(
                    f"node execution {execution.node_execution_id} was never started"
                ) from error
            stored = _execution(error.response["Item"])
            raise Conflict(
                f"node execution {execution.node_execution_id} is already {stored.status}"
            ) from error
        return execution

    def list_for_run(self, tenant_id: str, run_id: str) -> list[NodeExecution]:
        """Every execution of the run, in start order (the sort key begins with the start time)."""
        pages = self._client.get_paginator("query").paginate(
            TableName=self._table,
            KeyConditionExpression="tenant_run_id = :key",
            ExpressionAttributeValues={":key": to_value(tenant_run_id(tenant_id, run_id))},
            ConsistentRead=True,
        )
        return [_execution(item) for page in pages for item in page.get("Items", [])]

    def mark_debug(self, execution: NodeExecution, workflow_id: str) -> None:
        """List an execution of a single-node run with its workflow's node (by_debug_node)."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key=self._key(execution.tenant_run_id, execution.node_execution_id),
                UpdateExpression="SET debug_node = :key",
                ConditionExpression="attribute_exists(node_execution_id)",
                ExpressionAttributeValues={
                    ":key": to_value(
                        debug_node_key(execution.tenant_id, workflow_id, execution.node_id)
                    )
                },
            )
        except ClientError as error:
            if is_condition_failure(error):
                raise NotFound(
                    f"node execution {execution.node_execution_id} was never started"
                ) from error
            raise

    def list_debug(
        self, tenant_id: str, workflow_id: str, node_id: str, *, limit: int = 50
    ) -> list[NodeExecution]:
        """The newest executions of single-node runs of a workflow's node."""
        response = self._client.query(
            TableName=self._table,
            IndexName=BY_DEBUG_NODE_INDEX,
            KeyConditionExpression="debug_node = :key",
            ExpressionAttributeValues={
                ":key": to_value(debug_node_key(tenant_id, workflow_id, node_id))
            },
            ScanIndexForward=False,
            Limit=limit,
        )
        return [_execution(item) for item in response.get("Items", [])]

    @staticmethod
    def _key(partition: str, sort: str) -> dict[str, Any]:
        return {"tenant_run_id": to_value(partition), "node_execution_id": to_value(sort)}


def _execution(item: dict[str, Any]) -> NodeExecution:
    attributes = from_item(item, json_fields=_JSON_FIELDS)
    attributes.pop("tenant_run_id", None)
    attributes.pop("debug_node", None)
    return NodeExecution.model_validate(attributes)
