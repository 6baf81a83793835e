"""Creating a workflow: validate its graph, compile it, give it a state machine, store it."""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from typing import Any

from botocore.exceptions import ClientError

from signoff.compiler import CompileTarget, compile_workflow
from signoff.errors import Conflict, InvalidInput
from signoff.graph import parse_workflow
from signoff.settings import Settings
from signoff.store import utc_now_iso
from signoff.store.workflows import WorkflowRecord, WorkflowRepository

# A workflow id becomes part of a state machine name, whose charset this is (a subset of what
# Step Functions allows, safe in ARNs, URLs and IAM resource patterns).
WORKFLOW_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_STATE_MACHINE_NAME_LIMIT = 80
_TENANT_HASH_LENGTH = 10


def state_machine_name(prefix: str, tenant_id: str, workflow_id: str) -> str:
    """`<prefix>-<tenant hash>-<workflow id>`, shortened deterministically to fit in 80 chars.

    The tenant is hashed, not spelled: tenant ids may be long or use characters names may not,
    and two tenants may both name a workflow "support".
    """
    tenant_hash = hashlib.sha256(tenant_id.encode()).hexdigest()[:_TENANT_HASH_LENGTH]
    head = f"{prefix}-{tenant_hash}-"
    room = _STATE_MACHINE_NAME_LIMIT - len(head)
    if room < 12:
        raise ValueError(f"state machine prefix {prefix!r} leaves no room for the workflow id")
    if len(workflow_id) <= room:
        return head + workflow_id
    id_hash = hashlib.sha256(workflow_id.encode()).hexdigest()[:8]
    return f"{head}{workflow_id[: room - 9]}-{id_hash}"


class WorkflowService:
    def __init__(self, repository: WorkflowRepository, sfn_client: Any, settings: Settings) -> None:
        self._workflows = repository
        self._sfn = sfn_client
        self._settings = settings

    def create(self, tenant_id: str, document: dict[str, Any]) -> WorkflowRecord:
        """A new workflow from its native graph document (with an optional "id")."""
        graph_document = dict(document)
        workflow_id = graph_document.pop("id", None) or f"wf-{uuid.uuid4().hex[:20]}"
        if not isinstance(workflow_id, str) or not WORKFLOW_ID_PATTERN.match(workflow_id):
            raise InvalidInput(
                "a workflow id is 1 to 64 letters, digits, '-' or '_', starting with a letter "
                "or digit",
                field="id",
            )
        # A tool node must name a tool this deployment registers (SIGNOFF_TOOLS).
        workflow = parse_workflow(graph_document, tools=set(self._settings.tools))
        if self._workflows.find(tenant_id, workflow_id) is not None:
            raise Conflict(f"workflow {workflow_id} already exists")

        definition = compile_workflow(
            workflow,
            CompileTarget(
                node_function_arn=self._settings.require("node_function_arn"),
                settle_function_arn=self._settings.require("settle_function_arn"),
                # Only a workflow that waits on a person needs the review function.
                review_function_arn=(
                    self._settings.require("review_function_arn")
                    if any(node.reviewed for node in workflow.nodes)
                    else self._settings.review_function_arn
                ),
            ),
        )
        state_machine_arn = self._create_state_machine(tenant_id, workflow_id, definition)
        now = utc_now_iso()
        record = WorkflowRecord(
            tenant_id=tenant_id,
            workflow_id=workflow_id,
            name=workflow.name,
            description=workflow.description or "",
            version=1,
            graph=workflow.model_dump(mode="json"),
            state_machine_arn=state_machine_arn,
            created_at=now,
            updated_at=now,
        )
        return self._workflows.create(record)

    def get(self, tenant_id: str, workflow_id: str) -> WorkflowRecord:
        return self._workflows.get(tenant_id, workflow_id)

    def list(self, tenant_id: str) -> list[WorkflowRecord]:
        return sorted(self._workflows.list(tenant_id), key=lambda record: record.created_at)

    def _create_state_machine(
        self, tenant_id: str, workflow_id: str, definition: dict[str, Any]
    ) -> str:
        name = state_machine_name(self._settings.state_machine_prefix, tenant_id, workflow_id)
        role_arn = self._settings.require("workflow_execution_role_arn")
        definition_json = json.dumps(definition)
        try:
            response = self._sfn.create_state_machine(
                name=name,
                definition=definition_json,
                roleArn=role_arn,
                type="STANDARD",
                tags=[{"key": "signoff:workflow", "value": workflow_id}],
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "StateMachineAlreadyExists":
                raise
            # No record holds this name (checked above): a create that crashed after making the
            # state machine left it behind. Take it over with this workflow's definition.
            if self._workflows.find(tenant_id, workflow_id) is not None:
                raise Conflict(f"workflow {workflow_id} already exists") from error
            arn = self._state_machine_arn(name, role_arn)
            self._sfn.update_state_machine(
                stateMachineArn=arn, definition=definition_json, roleArn=role_arn
            )
            return arn
        return response["stateMachineArn"]

    def _state_machine_arn(self, name: str, role_arn: str) -> str:
        # The execution role lives in the state machine's account and partition.
        partition, account = role_arn.split(":")[1], role_arn.split(":")[4]
        region = self._sfn.meta.region_name
        return f"arn:{partition}:states:{region}:{account}:stateMachine:{name}"
