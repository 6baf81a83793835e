"""Sessions: the state the runs of one session share (Agno's session_id; Dify's conversation
variables), one item per (tenant, workflow, session) in the WorkflowSessions table.

The state is the conversation variables' values. A new session starts from the workflow's
declared values; a run of the session starts from the state (the run context's `conversation`,
runs/service.py), its assigners change it (`$run.conversation`), and the settle function saves
what the run ended with (`save_conversation`). Each write is conditional on the version read, so
two writers never silently overwrite each other.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

import boto3
from botocore.exceptions import ClientError
from pydantic import BaseModel, Field

from signoff.errors import Conflict
from signoff.store import dump_json, from_item, is_condition_failure, to_item, to_value, utc_now_iso

_JSON_FIELDS = ("state",)


class WorkflowSession(BaseModel):
    tenant_id: str
    workflow_id: str
    session_id: str
    user_id: str | None = None
    state: dict[str, Any] = Field(default_factory=dict)
    # The session's latest run, and the last run whose outputs are in `state`.
    last_run_id: str | None = None
    applied_run_id: str | None = None
    version: int = 0
    created_at: str = Field(default_factory=utc_now_iso)
    updated_at: str = Field(default_factory=utc_now_iso)


class SessionChanged(Conflict):
    code = "session_changed"


class SessionStore(Protocol):
    def find(self, tenant_id: str, workflow_id: str, session_id: str) -> WorkflowSession | None: ...

    def save(self, session: WorkflowSession) -> WorkflowSession:
        """Store `session` as the next version of the one read (SessionChanged otherwise)."""
        ...


class DynamoSessionStore:
    def __init__(self, table_name: str, client: Any = None) -> None:
        self._table = table_name
        self._client = client or boto3.client("dynamodb")

    def find(self, tenant_id: str, workflow_id: str, session_id: str) -> WorkflowSession | None:
        response = self._client.get_item(
            TableName=self._table,
            Key={
                "tenant_workflow": to_value(f"{tenant_id}#{workflow_id}"),
                "session_id": to_value(session_id),
            },
            ConsistentRead=True,
        )
        item = response.get("Item")
        if not item:
            return None
        attributes = from_item(item, json_fields=_JSON_FIELDS)
        attributes.pop("tenant_workflow", None)
        return WorkflowSession.model_validate(attributes)

    def save(self, session: WorkflowSession) -> WorkflowSession:
        stored = session.model_copy(
            update={"version": session.version + 1, "updated_at": utc_now_iso()}
        )
        item = to_item(stored.model_dump(), json_fields=_JSON_FIELDS)
        item["tenant_workflow"] = to_value(f"{session.tenant_id}#{session.workflow_id}")
        if session.version == 0:
            condition = "attribute_not_exists(session_id)"
            values: dict[str, Any] = {}
        else:
            condition = "version = :seen"
            values = {":seen": to_value(session.version)}
        try:
            self._client.put_item(
                TableName=self._table,
                Item=item,
                ConditionExpression=condition,
                **({"ExpressionAttributeValues": values} if values else {}),
            )
        except ClientError as error:
            if is_condition_failure(error):
                raise SessionChanged(f"session {session.session_id} changed meanwhile") from error
            raise
        return stored


def initial_state(conversation_variables: list[Any]) -> dict[str, Any]:
    """A new session's state: each conversation variable's starting value."""
    return {variable.name: variable.value for variable in conversation_variables}


def save_conversation(
    store: SessionStore,
    *,
    tenant_id: str,
    workflow_id: str,
    session_id: str,
    run_id: str,
    conversation: dict[str, Any],
    attempts: int = 5,
) -> WorkflowSession:
    """Put a run's final conversation variables into its session's state (the session is
    created when it does not exist yet). Names the run does not hold keep their values."""
    # Kept as JSON-compatible data (DynamoDB holds the state as a JSON string).
    values = json.loads(dump_json(conversation))

    def attempt() -> WorkflowSession:
        session = store.find(tenant_id, workflow_id, session_id) or WorkflowSession(
            tenant_id=tenant_id, workflow_id=workflow_id, session_id=session_id
        )
        return store.save(
            session.model_copy(
                update={"state": {**session.state, **values}, "applied_run_id": run_id}
            )
        )

    for _ in range(attempts - 1):
        try:
            return attempt()
        except SessionChanged:
            continue
    return attempt()
