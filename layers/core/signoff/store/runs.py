"""The Runs table: one item per (tenant, run), moved through its statuses by conditional writes.

pending -> running (<-> paused while it waits on a person) -> a terminal status. A terminal run
is never reopened: every write that moves a run names the statuses it may move from, and DynamoDB
refuses the rest.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

import boto3
from botocore.exceptions import ClientError
from pydantic import BaseModel, Field

from signoff.errors import Conflict, NotFound
from signoff.store import (
    dump_json,
    from_item,
    is_condition_failure,
    to_item,
    to_value,
    update_or_stored,
    utc_now_iso,
)

_JSON_FIELDS = ("inputs", "outputs", "error", "pending_patch")
# The index listing a tenant's runs newest first (template.yaml, RunsTable).
BY_CREATED_INDEX = "by_created"
# The sparse index finding a run by its execution's ARN (template.yaml, RunsTable): the reconciler.
BY_EXECUTION_INDEX = "by_execution"
_STATUS = {"#status": "status"}


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
    # The id of that version (WorkflowRecord.version_id: Dify's workflow id of the run), kept
    # so an answer naming it needs no read of the workflow; None on runs made before it was.
    workflow_version_id: str | None = None
    status: RunStatus = RunStatus.PENDING
    inputs: dict[str, Any]
    outputs: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    user: str | None = None
    execution_arn: str | None = None
    created_at: str
    started_at: str | None = None
    finished_at: str | None = None
    # Model usage summed over the run's nodes (prices from the deployment's configuration).
    total_tokens: int = 0
    total_price: str = "0"
    currency: str | None = None
    # Human in the loop: "step" runs pause after every node; a retry names the run it retries.
    mode: str = "normal"
    retry_of: str | None = None
    # Variable edits made while paused (node id -> outputs), sent with the next decision; every
    # edit is also kept in `variable_edits` ({node_id, outputs, by, at}). `patch_version` counts
    # changes to the pending patch, so concurrent edits cannot overwrite each other.
    pending_patch: dict[str, Any] | None = None
    patch_version: int = 0
    variable_edits: list[dict[str, Any]] = Field(default_factory=list)
    # The ids of the run's pending reviews (a string set, `pending_reviews`): the run is paused
    # while it holds any. Several can be pending at once (parallel branches, parallel items).
    pending_reviews: frozenset[str] = frozenset()
    # The waits Step Functions timed out before their review was stored (a string set of wait
    # keys, reviews/waits.py): a request arriving after its wait's timeout must not pause the run.
    expired_waits: frozenset[str] = frozenset()


@dataclass(frozen=True)
class WaitClosed:
    """A run after one of its waits on a person closed: `resumed` when that was the last one
    pending and the run went paused -> running; `tracked` False when the run did not count the
    wait (a run paused before waits were counted)."""

    run: RunRecord
    resumed: bool
    tracked: bool = True


# Attempts at closing a wait while other writers move the same run (each refusal means another
# wait opened or closed meanwhile).
_CLOSE_WAIT_ATTEMPTS = 20


class RunNotPaused(Conflict):
    code = "run_not_paused"


class PatchChanged(Conflict):
    """The pending patch changed since it was read: read it again and reapply the edit."""

    code = "patch_changed"


_USAGE_UPDATE = ", total_tokens = :total_tokens, total_price = :total_price, currency = :currency"


class RunUsage(BaseModel):
    """A run's model usage totals, as the settle function receives them."""

    total_tokens: int = 0
    total_price: str = "0"
    currency: str | None = None

    def expression_values(self) -> dict[str, Any]:
        return {
            ":total_tokens": to_value(self.total_tokens),
            ":total_price": to_value(self.total_price),
            ":currency": to_value(self.currency),
        }


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
        usage: RunUsage | None = None,
    ) -> RunRecord: ...

    def get(self, tenant_id: str, run_id: str) -> RunRecord: ...

    def list(self, tenant_id: str) -> list[RunRecord]: ...

    def mark_paused(self, tenant_id: str, run_id: str) -> RunRecord: ...

    def mark_resumed(self, tenant_id: str, run_id: str) -> RunRecord: ...

    def open_wait(
        self, tenant_id: str, run_id: str, review_id: str, *, wait_keys: Sequence[str] = ()
    ) -> RunRecord: ...

    def mark_wait_expired(self, tenant_id: str, run_id: str, wait_key: str) -> RunRecord: ...

    def close_wait(self, tenant_id: str, run_id: str, review_id: str) -> WaitClosed: ...

    def stage_variable_patch(
        self,
        run: RunRecord,
        pending_patch: dict[str, Any],
        edits: list[dict[str, Any]],
    ) -> RunRecord: ...

    def clear_variable_patch(self, run: RunRecord, keys: Collection[str] | None = None) -> bool: ...

    def page(
        self,
        tenant_id: str,
        *,
        offset: int,
        limit: int,
        workflow_id: str | None = None,
        status: RunStatus | None = None,
    ) -> tuple[list[RunRecord], bool]: ...


class DynamoRunRepository:
    def __init__(self, table_name: str, client: Any = None) -> None:
        self._table = table_name
        self._client = client or boto3.client("dynamodb")

    def create(self, record: RunRecord) -> RunRecord:
        if record.status is not RunStatus.PENDING:
            raise ValueError("a run is created pending")
        # The pending reviews are a string set, added to and removed from; never stored empty.
        attributes = record.model_dump(mode="json", exclude={"pending_reviews", "expired_waits"})
        try:
            self._client.put_item(
                TableName=self._table,
                Item=to_item(attributes, json_fields=_JSON_FIELDS),
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
        run, moved = self._update(
            tenant_id,
            run_id,
            update="SET #status = :running, execution_arn = :arn, started_at = :now",
            condition="#status = :pending",
            names=_STATUS,
            values={
                ":running": to_value(RunStatus.RUNNING.value),
                ":pending": to_value(RunStatus.PENDING.value),
                ":arn": to_value(execution_arn),
                ":now": to_value(utc_now_iso()),
            },
        )
        if moved:
            return run
        if run.execution_arn is None:
            return self._record_execution_arn(tenant_id, run_id, execution_arn)
        if run.execution_arn != execution_arn:
            raise Conflict(f"run {run_id} already runs as another execution")
        return run

    def settle(
        self,
        tenant_id: str,
        run_id: str,
        status: RunStatus,
        outputs: dict[str, Any] | None = None,
        error: dict[str, Any] | None = None,
        usage: RunUsage | None = None,
    ) -> RunRecord:
        """Bring a run to a terminal status once (with its usage totals, when given). Settling a
        terminal run changes nothing and answers with the stored record."""
        return self.settle_once(tenant_id, run_id, status, outputs, error, usage)[0]

    def settle_once(
        self,
        tenant_id: str,
        run_id: str,
        status: RunStatus,
        outputs: dict[str, Any] | None = None,
        error: dict[str, Any] | None = None,
        usage: RunUsage | None = None,
    ) -> tuple[RunRecord, bool]:
        """`settle`, also answering whether this call is the one that ended the run (so only
        its caller announces the end)."""
        status = RunStatus(status)
        if not status.is_terminal:
            raise ValueError(f"{status} is not a terminal status")
        not_terminal, from_values = _status_in(NON_TERMINAL_STATUSES)
        return self._update(
            tenant_id,
            run_id,
            update=(
                "SET #status = :status, outputs = :outputs, #error = :error, finished_at = :now"
                + _USAGE_UPDATE * (usage is not None)
            ),
            condition=not_terminal,
            names={**_STATUS, "#error": "error"},
            values={
                ":status": to_value(status.value),
                ":outputs": to_value(dump_json(outputs)),
                ":error": to_value(dump_json(error)),
                ":now": to_value(utc_now_iso()),
                **(usage.expression_values() if usage is not None else {}),
                **from_values,
            },
        )

    def find(self, tenant_id: str, run_id: str) -> RunRecord | None:
        response = self._client.get_item(
            TableName=self._table, Key=self._key(tenant_id, run_id), ConsistentRead=True
        )
        item = response.get("Item")
        return _record(item) if item else None

    def find_by_execution_arn(self, execution_arn: str) -> RunRecord | None:
        """The run an execution runs, or None (read consistently once the index names it)."""
        response = self._client.query(
            TableName=self._table,
            IndexName=BY_EXECUTION_INDEX,
            KeyConditionExpression="execution_arn = :arn",
            ExpressionAttributeValues={":arn": to_value(execution_arn)},
        )
        for item in response.get("Items") or []:
            keys = from_item(item)
            record = self.find(str(keys["tenant_id"]), str(keys["run_id"]))
            if record is not None and record.execution_arn == execution_arn:
                return record
        return None

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

    def page(
        self,
        tenant_id: str,
        *,
        offset: int,
        limit: int,
        workflow_id: str | None = None,
        status: RunStatus | None = None,
    ) -> tuple[list[RunRecord], bool]:
        """The tenant's runs newest first, filtered, from `offset`: up to `limit` of them, and
        whether more follow. The filters are applied as DynamoDB reads the index, so a deep page
        reads every run before it."""
        filters: list[str] = []
        names: dict[str, str] = {}
        values: dict[str, Any] = {":tenant": to_value(tenant_id)}
        if workflow_id is not None:
            filters.append("workflow_id = :workflow")
            values[":workflow"] = to_value(workflow_id)
        if status is not None:
            filters.append("#status = :status")
            names["#status"] = "status"
            values[":status"] = to_value(RunStatus(status).value)
        query: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": BY_CREATED_INDEX,
            "KeyConditionExpression": "tenant_id = :tenant",
            "ExpressionAttributeValues": values,
            "ScanIndexForward": False,
        }
        if filters:
            query["FilterExpression"] = " AND ".join(filters)
        if names:
            query["ExpressionAttributeNames"] = names
        wanted = offset + limit + 1
        matched: list[RunRecord] = []
        for page in self._client.get_paginator("query").paginate(**query):
            matched.extend(_record(item) for item in page.get("Items", []))
            if len(matched) >= wanted:
                break
        return matched[offset : offset + limit], len(matched) > offset + limit

    def mark_paused(self, tenant_id: str, run_id: str) -> RunRecord:
        """A run waiting on a person: pending, running or paused -> paused. A terminal run keeps
        its status (the answer says which)."""
        return self._move_status(
            tenant_id,
            run_id,
            RunStatus.PAUSED,
            from_statuses=(RunStatus.PENDING, RunStatus.RUNNING, RunStatus.PAUSED),
        )

    def mark_resumed(self, tenant_id: str, run_id: str) -> RunRecord:
        """paused -> running; any other status is left as it is."""
        return self._move_status(
            tenant_id, run_id, RunStatus.RUNNING, from_statuses=(RunStatus.PAUSED,)
        )

    def open_wait(
        self, tenant_id: str, run_id: str, review_id: str, *, wait_keys: Sequence[str] = ()
    ) -> RunRecord:
        """A wait on a person began: the review joins the run's pending reviews and the run is
        paused, in one write (pending, running or paused -> paused). Adding the same review again
        (a retried request) changes nothing. A terminal run is left as it is, and so is a run
        where any of `wait_keys` is already in `expired_waits` (the wait timed out first)."""
        expired = {f":expired{i}": to_value(key) for i, key in enumerate(wait_keys)}
        not_expired = "".join(f" AND NOT contains(expired_waits, {name})" for name in expired)
        return self._move_status(
            tenant_id,
            run_id,
            RunStatus.PAUSED,
            from_statuses=NON_TERMINAL_STATUSES,
            also=("ADD pending_reviews :ids", {":ids": {"SS": [review_id]}, **expired}),
            condition_also=not_expired,
        )

    def mark_wait_expired(self, tenant_id: str, run_id: str, wait_key: str) -> RunRecord:
        """Step Functions timed the wait out: remember it, so that its review, if its request is
        still on the way, never pauses the run (open_wait)."""
        run, _ = self._update(
            tenant_id,
            run_id,
            update="ADD expired_waits :keys",
            condition="attribute_exists(run_id)",
            values={":keys": {"SS": [wait_key]}},
        )
        return run

    def close_wait(self, tenant_id: str, run_id: str, review_id: str) -> WaitClosed:
        """A wait left pending (decided, timed out): the review leaves the run's pending reviews,
        and when it was the last one the run goes paused -> running in the same write. Each
        write is conditional on the set as it must be, so racing decisions and new waits never
        leave the run paused with nothing pending, nor running with something pending."""
        base = {
            ":id": to_value(review_id),
            ":ids": {"SS": [review_id]},
            ":one": to_value(1),
            ":paused": to_value(RunStatus.PAUSED.value),
        }
        for _ in range(_CLOSE_WAIT_ATTEMPTS):
            # The last pending review: remove it and resume.
            resumed_run, resumed = self._update(
                tenant_id,
                run_id,
                update="DELETE pending_reviews :ids SET #status = :running",
                condition=(
                    "#status = :paused AND contains(pending_reviews, :id) "
                    "AND size(pending_reviews) = :one"
                ),
                names=_STATUS,
                values={**base, ":running": to_value(RunStatus.RUNNING.value)},
            )
            if resumed:
                return WaitClosed(resumed_run, resumed=True)
            # Others are still pending (or the run is not paused): remove it alone.
            stored, removed = self._update(
                tenant_id,
                run_id,
                update="DELETE pending_reviews :ids",
                condition=(
                    "contains(pending_reviews, :id) "
                    "AND (size(pending_reviews) > :one OR #status <> :paused)"
                ),
                names=_STATUS,
                values=base,
            )
            if removed:
                return WaitClosed(stored, resumed=False)
            if review_id not in stored.pending_reviews:
                # Closed already, or a run paused before waits were counted.
                return WaitClosed(stored, resumed=False, tracked=bool(stored.pending_reviews))
            # The set changed between the two writes: try again with what it is now.
        raise Conflict(f"run {run_id}'s pending reviews kept changing; try again")

    def stage_variable_patch(
        self,
        run: RunRecord,
        pending_patch: dict[str, Any],
        edits: list[dict[str, Any]],
    ) -> RunRecord:
        """Replace the pending patch of a paused run read as `run`, and keep the edits.

        RunNotPaused when the run is no longer paused; PatchChanged when the pending patch changed
        since `run` was read (nothing is written then)."""
        values: dict[str, Any] = {
            ":paused": to_value(RunStatus.PAUSED.value),
            ":patch": to_value(dump_json(pending_patch)),
            ":seen": to_value(run.patch_version),
            ":next": to_value(run.patch_version + 1),
            ":edits": to_value([dump_json(edit) for edit in edits]),
            ":none": to_value([]),
        }
        stored, staged = self._update(
            run.tenant_id,
            run.run_id,
            update=(
                "SET pending_patch = :patch, patch_version = :next, "
                "variable_edits = list_append(if_not_exists(variable_edits, :none), :edits)"
            ),
            condition=f"#status = :paused AND {_patch_version_is(run)}",
            names=_STATUS,
            values=values,
        )
        if staged:
            return stored
        if stored.status is not RunStatus.PAUSED:
            raise RunNotPaused(
                f"run {run.run_id} is {stored.status.value}: its variables change only "
                "while it is paused"
            )
        raise PatchChanged(f"run {run.run_id}'s variables changed meanwhile")

    def clear_variable_patch(self, run: RunRecord, keys: Collection[str] | None = None) -> bool:
        """Remove the pending patch read as `run` (only its entries `keys`, when given: the
        edits of other items wait for their own decisions), once it was sent with a decision.
        An edit made after that read stays for the next decision: then nothing is removed
        (False)."""
        remaining = {
            key: value
            for key, value in (run.pending_patch or {}).items()
            if keys is not None and key not in keys
        }
        values: dict[str, Any] = {
            ":seen": to_value(run.patch_version),
            ":next": to_value(run.patch_version + 1),
        }
        update = "REMOVE pending_patch SET patch_version = :next"
        if remaining:
            update = "SET pending_patch = :patch, patch_version = :next"
            values[":patch"] = to_value(dump_json(remaining))
        try:
            self._client.update_item(
                TableName=self._table,
                Key=self._key(run.tenant_id, run.run_id),
                UpdateExpression=update,
                ConditionExpression=f"attribute_exists(run_id) AND {_patch_version_is(run)}",
                ExpressionAttributeValues=values,
            )
        except ClientError as error:
            if is_condition_failure(error):
                return False
            raise
        return True

    def _move_status(
        self,
        tenant_id: str,
        run_id: str,
        status: RunStatus,
        *,
        from_statuses: Iterable[RunStatus],
        also: tuple[str, dict[str, Any]] = ("", {}),
        condition_also: str = "",
    ) -> RunRecord:
        """The run moved to `status` if it is in one of `from_statuses` (and `condition_also`
        holds), else as it is; `also` is a clause and its values the same write makes when it
        moves the run."""
        allowed, from_values = _status_in(from_statuses)
        clause, clause_values = also
        run, _ = self._update(
            tenant_id,
            run_id,
            update=f"SET #status = :status {clause}".rstrip(),
            condition=f"({allowed}){condition_also}",
            names=_STATUS,
            values={":status": to_value(status.value), **from_values, **clause_values},
        )
        return run

    def _record_execution_arn(self, tenant_id: str, run_id: str, execution_arn: str) -> RunRecord:
        run, _ = self._update(
            tenant_id,
            run_id,
            update="SET execution_arn = :arn, started_at = if_not_exists(started_at, :now)",
            condition="attribute_exists(run_id) AND attribute_not_exists(execution_arn)",
            values={":arn": to_value(execution_arn), ":now": to_value(utc_now_iso())},
        )
        return run

    def _update(
        self,
        tenant_id: str,
        run_id: str,
        *,
        update: str,
        condition: str,
        values: dict[str, Any],
        names: dict[str, str] | None = None,
    ) -> tuple[RunRecord, bool]:
        """The run after a conditional update and True, or the run as it is when the condition
        refused the update and False; NotFound when there is no run."""
        item, applied = update_or_stored(
            self._client,
            table=self._table,
            key=self._key(tenant_id, run_id),
            update=update,
            condition=condition,
            values=values,
            names=names,
            missing=f"run {run_id}",
        )
        return _record(item), applied

    @staticmethod
    def _key(tenant_id: str, run_id: str) -> dict[str, Any]:
        return {"tenant_id": to_value(tenant_id), "run_id": to_value(run_id)}


def _status_in(statuses: Iterable[RunStatus]) -> tuple[str, dict[str, Any]]:
    """The condition that the run's status is one of `statuses`, and its placeholders' values."""
    values = {
        f":from{index}": to_value(status.value) for index, status in enumerate(sorted(statuses))
    }
    return f"#status IN ({', '.join(values)})", values


def _patch_version_is(run: RunRecord) -> str:
    """The condition that the pending patch is still the one `run` was read with (`:seen`)."""
    if run.patch_version == 0:
        return "(attribute_not_exists(patch_version) OR patch_version = :seen)"
    return "patch_version = :seen"


def _record(item: dict[str, Any]) -> RunRecord:
    attributes = from_item(item, json_fields=_JSON_FIELDS)
    # Each variable edit is stored as one JSON string in a list (appended atomically).
    attributes["pending_reviews"] = frozenset(attributes.get("pending_reviews") or ())
    attributes["expired_waits"] = frozenset(attributes.get("expired_waits") or ())
    attributes["variable_edits"] = [
        json.loads(edit) if isinstance(edit, str) else edit
        for edit in attributes.get("variable_edits") or []
    ]
    return RunRecord.model_validate(attributes)
