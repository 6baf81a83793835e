"""Workflows and their versions: validate a graph, compile it, give it a state machine, store it.

Every version of a workflow keeps its own state machine, so a run started on version 1 keeps
running version 1's definition after version 2 exists, and retries and step runs of it compile
from version 1's graph. Step Functions has versions of its own (publish=True, version ARNs), but
moto 5.2.5, which runs the local cloud and the tests, cannot start an execution on a version ARN
(its executing backend fails on the version object, and DescribeExecution and SendTaskSuccess only
look among the unversioned state machine's executions): so each version is a state machine of its
own, named after the workflow, the version and the version id (version_state_machine_name).
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from signoff.compiler import CompileTarget, compile_workflow
from signoff.errors import Conflict, InvalidInput
from signoff.graph import parse_workflow
from signoff.graph.model import Workflow
from signoff.settings import Settings
from signoff.store import utc_now_iso
from signoff.store.workflows import (
    WorkflowRecord,
    WorkflowRepository,
    WorkflowVersionConflict,
)
from signoff.tenant_names import tenant_hash

logger = Logger(child=True)

# A workflow id becomes part of a state machine name, whose charset this is (a subset of what
# Step Functions allows, safe in ARNs, URLs and IAM resource patterns).
WORKFLOW_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_STATE_MACHINE_NAME_LIMIT = 80


def state_machine_name(prefix: str, tenant_id: str, workflow_id: str) -> str:
    """`<prefix>-<tenant hash>-<workflow id>`, shortened deterministically to fit in 80 chars.

    The tenant is hashed, not spelled: tenant ids may be long or use characters names may not,
    and two tenants may both name a workflow "support".
    """
    head = f"{prefix}-{tenant_hash(tenant_id)}-"
    room = _STATE_MACHINE_NAME_LIMIT - len(head)
    if room < 12:
        raise ValueError(f"state machine prefix {prefix!r} leaves no room for the workflow id")
    if len(workflow_id) <= room:
        return head + workflow_id
    id_hash = hashlib.sha256(workflow_id.encode()).hexdigest()[:8]
    return f"{head}{workflow_id[: room - 9]}-{id_hash}"


def version_state_machine_name(
    prefix: str, tenant_id: str, workflow_id: str, version: int, version_id: str | None = None
) -> str:
    """The state machine name of a workflow's version: version 1 keeps the workflow's own name
    (workflows made before versions keep theirs); a later one adds `.v<n>-<version id start>`,
    so two updates racing to make version n never share (and overwrite) one state machine.
    '.' never occurs in a workflow id, so no workflow's own name can collide with these."""
    if version == 1:
        return state_machine_name(prefix, tenant_id, workflow_id)
    tag = f".v{version}-{(version_id or '').replace('-', '')[:8]}".rstrip("-")
    return state_machine_name(prefix, tenant_id, f"{workflow_id}{tag}")


class WorkflowService:
    def __init__(self, repository: WorkflowRepository, sfn_client: Any, settings: Settings) -> None:
        self._workflows = repository
        self._sfn = sfn_client
        self._settings = settings

    def create(
        self, tenant_id: str, document: dict[str, Any], *, created_by: str | None = None
    ) -> WorkflowRecord:
        """A new workflow from its native graph document (with an optional "id"), at version 1."""
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

        definition = self._compile(workflow)
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
            version_created_by=created_by,
        )
        return self._workflows.create(record)

    def update(
        self,
        tenant_id: str,
        workflow_id: str,
        document: dict[str, Any],
        *,
        expected_version: int | None = None,
        created_by: str | None = None,
    ) -> WorkflowRecord:
        """A new version of the workflow from a native graph document, with a state machine of
        its own; the older versions stay as they are, and runnable.

        `expected_version`: the version the change is based on (the If-Match of PUT); without
        it, the version read here. WorkflowVersionConflict when another update made a version
        first: of two racing updates, one wins and the other changes nothing."""
        current = self._workflows.get(tenant_id, workflow_id)
        base_version = current.version if expected_version is None else expected_version
        if base_version != current.version:
            raise WorkflowVersionConflict(
                f"workflow {workflow_id} is at version {current.version}, not {base_version}"
            )
        graph_document = dict(document)
        named = graph_document.pop("id", None)
        if named is not None and named != workflow_id:
            raise InvalidInput(
                f"the document names workflow {named!r}, not {workflow_id!r}", field="id"
            )
        workflow = parse_workflow(graph_document, tools=set(self._settings.tools))
        definition = self._compile(workflow)
        version = base_version + 1
        version_id = str(uuid.uuid4())
        name = version_state_machine_name(
            self._settings.state_machine_prefix, tenant_id, workflow_id, version, version_id
        )
        state_machine_arn = self._sfn.create_state_machine(
            name=name,
            definition=json.dumps(definition),
            roleArn=self._settings.require("workflow_execution_role_arn"),
            type="STANDARD",
            tags=[
                {"key": "signoff:workflow", "value": workflow_id},
                {"key": "signoff:version", "value": str(version)},
            ],
        )["stateMachineArn"]
        record = current.model_copy(
            update={
                "name": workflow.name,
                "description": workflow.description or "",
                "graph": workflow.model_dump(mode="json"),
                "state_machine_arn": state_machine_arn,
                "updated_at": utc_now_iso(),
                "version_created_by": created_by,
            }
        )
        try:
            return self._workflows.update(
                record, expected_version=base_version, version_id=version_id
            )
        except Conflict:
            # Another update made this version first: the state machine made for ours would
            # never run, so it goes (a failed delete only leaves an unused state machine).
            self._delete_quietly(state_machine_arn)
            raise

    def versions(self, tenant_id: str, workflow_id: str) -> list[WorkflowRecord]:
        """Every version of the workflow, oldest first."""
        return self._workflows.list_versions(tenant_id, workflow_id)

    def version(self, tenant_id: str, workflow_id: str, version: int) -> WorkflowRecord:
        """The workflow as of one version (WorkflowVersionNotFound when it has no such one)."""
        return self._workflows.get_version(tenant_id, workflow_id, version)

    def get(self, tenant_id: str, workflow_id: str) -> WorkflowRecord:
        return self._workflows.get(tenant_id, workflow_id)

    def list(self, tenant_id: str) -> list[WorkflowRecord]:
        return sorted(self._workflows.list(tenant_id), key=lambda record: record.created_at)

    def _compile(self, workflow: Workflow) -> dict[str, Any]:
        return compile_workflow(
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

    def _delete_quietly(self, state_machine_arn: str) -> None:
        try:
            self._sfn.delete_state_machine(stateMachineArn=state_machine_arn)
        except ClientError:
            logger.warning(
                "an unused version state machine was left behind",
                extra={"state_machine_arn": state_machine_arn},
            )

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
