"""Single-node (debug) runs: one node of a workflow, run alone on the variable values given.

The node function is invoked directly, with the event a run's Task would send it, under a debug
run id (`debug-<uuid>`), so the node runs exactly as in a run and records its executions as
usual. Those records are then marked for the workflow's node (the sparse by_debug_node index),
which is how GET /workflows/{id}/nodes/{node_id}/runs lists them. No run record is made: a debug
run is no run of the workflow.

Its run context holds what a run's does (compiler/lowering/start.py): the workflow's environment
variables (a secret one as its placeholder, which the node function resolves as in a run) and
its conversation variables at their declared values, or at the values the request gives.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from aws_lambda_powertools import Logger

from signoff.errors import InvalidInput, NotFound
from signoff.graph import parse_workflow
from signoff.graph.model import Workflow
from signoff.graph.selectors import CONVERSATION, ENV
from signoff.reviews.waits import utc_now
from signoff.store.node_executions import NodeExecution, format_time
from signoff.store.workflows import WorkflowRepository

logger = Logger(child=True)

DEBUG_RUN_PREFIX = "debug-"
# Dify's single-step run names a value `#<node id>.<variable>#`; `<node id>.<variable>` also works.
_FLAT_SELECTOR = re.compile(r"^#?(?P<node>[^.#]+)\.(?P<variable>[^#]+)#?$")


class DebugExecutions(Protocol):
    def list_for_run(self, tenant_id: str, run_id: str) -> list[NodeExecution]: ...

    def mark_debug(self, execution: NodeExecution, workflow_id: str) -> None: ...

    def list_debug(
        self, tenant_id: str, workflow_id: str, node_id: str, *, limit: int = 50
    ) -> list[NodeExecution]: ...


@dataclass(frozen=True)
class DebugRun:
    debug_run_id: str
    workflow_id: str
    node_id: str
    node_type: str
    status: str  # succeeded | exception | failed
    inputs: dict[str, Any] | None
    outputs: dict[str, Any] | None
    error: dict[str, Any] | None
    started_at: str
    finished_at: str | None
    elapsed_ms: int | None
    attempts: int


def node_variables(inputs: dict[str, Any]) -> dict[str, dict[str, Any] | None]:
    """The node event's `variables` from a request's `inputs`: `{"<node id>": {...outputs}}`,
    or flat `"#<node id>.<variable>#": value` entries (Dify's single-step form), or both."""
    variables: dict[str, dict[str, Any] | None] = {}
    for key, value in inputs.items():
        flat = _FLAT_SELECTOR.match(key)
        if flat is not None:
            node = variables.setdefault(flat["node"], {})
            if node is None:
                raise InvalidInput(f"{flat['node']} is given as skipped (null)", field=key)
            node[flat["variable"]] = value
        elif isinstance(value, dict):
            variables[key] = {**(variables.get(key) or {}), **value}
        elif value is None:
            variables[key] = None  # a node that was skipped
        else:
            raise InvalidInput(
                f"{key}: give a node's outputs as an object, or name one value as "
                f"#{key}.<variable>#",
                field=key,
            )
    return variables


def run_variables(
    workflow: Workflow, given: dict[str, dict[str, Any] | None]
) -> dict[str, dict[str, Any]]:
    """The run context's `env` and `conversation` for a single-node run, as a run's Init sets
    them: each environment variable's value (a secret one's placeholder), each conversation
    variable's declared value unless `given` (the request's variables) has one for it.

    The values given for `conversation` are taken out of `given`; a value given for `env` is
    refused: the workflow's own values are what its runs read."""
    if ENV in given:
        raise InvalidInput(
            "env variables are the workflow's own: a single-node run reads them as a run does "
            "(a secret one through PUT /workflows/{id}/secrets/{name})",
            field=ENV,
        )
    conversation = workflow.conversation_defaults()
    for name, value in (given.pop(CONVERSATION, None) or {}).items():
        if name not in conversation:
            raise InvalidInput(
                f"the workflow declares no conversation variable {name}", field=CONVERSATION
            )
        conversation[name] = value
    if not workflow.environment_variables and not workflow.conversation_variables:
        return {}
    return {ENV: workflow.env_values(), CONVERSATION: conversation}


class NodeDebugService:
    def __init__(
        self,
        workflows: WorkflowRepository,
        executions: DebugExecutions,
        lambda_client: Any,
        node_function: str,
        *,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._workflows = workflows
        self._executions = executions
        self._lambda = lambda_client
        self._node_function = node_function
        self._clock = clock

    def run(
        self,
        tenant_id: str,
        workflow_id: str,
        node_id: str,
        inputs: dict[str, Any],
        *,
        user: str | None = None,
    ) -> DebugRun:
        record = self._workflows.get(tenant_id, workflow_id)
        workflow = parse_workflow(record.graph)
        node = workflow.nodes_by_id.get(node_id)
        if node is None:
            raise NotFound(f"workflow {workflow_id} has no node {node_id}")
        if not node.runs_in_node_function:
            raise InvalidInput(
                f"node {node_id} ({node.type}) is part of the state machine itself, not run by "
                "the node function: it cannot be run alone"
            )
        debug_run_id = f"{DEBUG_RUN_PREFIX}{uuid.uuid4()}"
        variables = node_variables(inputs)
        event = {
            "run": {
                "run_id": debug_run_id,
                "tenant_id": tenant_id,
                "workflow_id": workflow_id,
                "workflow_version": record.version,
                "user": user,
                **run_variables(workflow, variables),
            },
            "node": {
                "id": node.id,
                "type": node.type,
                "title": node.title,
                "config": node.config(),
            },
            "variables": variables,
            "attempt": 1,
        }
        started = self._clock()
        started_clock = time.perf_counter()
        response = self._lambda.invoke(
            FunctionName=self._node_function,
            InvocationType="RequestResponse",
            Payload=json.dumps(event).encode(),
        )
        elapsed_ms = round((time.perf_counter() - started_clock) * 1000)
        payload = json.loads(response["Payload"].read() or b"null")
        executions = self._executions.list_for_run(tenant_id, debug_run_id)
        for execution in executions:
            self._executions.mark_debug(execution, workflow_id)
        if executions:
            return _debug_run(workflow_id, executions)
        # The function failed before recording anything (it crashed, or timed out).
        error = _function_error(payload) if response.get("FunctionError") else None
        logger.warning("a single-node run left no record", extra={"node_id": node_id})
        return DebugRun(
            debug_run_id=debug_run_id,
            workflow_id=workflow_id,
            node_id=node_id,
            node_type=node.type,
            status="failed" if error else "succeeded",
            inputs=None,
            outputs=None if error else (payload or {}).get("outputs"),
            error=error,
            started_at=format_time(started),
            finished_at=format_time(self._clock()),
            elapsed_ms=elapsed_ms,
            attempts=0,
        )

    def list(
        self, tenant_id: str, workflow_id: str, node_id: str, *, limit: int = 20
    ) -> list[DebugRun]:
        """The node's newest single-node runs, newest first."""
        record = self._workflows.get(tenant_id, workflow_id)
        if node_id not in parse_workflow(record.graph).nodes_by_id:
            raise NotFound(f"workflow {workflow_id} has no node {node_id}")
        by_run: dict[str, list[NodeExecution]] = {}
        # Attempts of one run sit together; a few more records than runs covers retries.
        for execution in self._executions.list_debug(
            tenant_id, workflow_id, node_id, limit=limit * 4
        ):
            by_run.setdefault(execution.run_id, []).append(execution)
        runs = [
            _debug_run(workflow_id, sorted(attempts, key=lambda e: e.node_execution_id))
            for attempts in by_run.values()
        ]
        return runs[:limit]


def _debug_run(workflow_id: str, executions: list[NodeExecution]) -> DebugRun:
    first, last = executions[0], executions[-1]
    return DebugRun(
        debug_run_id=last.run_id,
        workflow_id=workflow_id,
        node_id=last.node_id,
        node_type=last.node_type,
        status=str(last.status),
        inputs=last.inputs,
        outputs=last.outputs,
        error=last.error.model_dump() if last.error is not None else None,
        started_at=first.started_at,
        finished_at=last.finished_at,
        elapsed_ms=last.elapsed_ms,
        attempts=len(executions),
    )


def _function_error(payload: Any) -> dict[str, Any]:
    if isinstance(payload, dict):
        return {
            "type": str(payload.get("errorType") or "Error"),
            "message": str(payload.get("errorMessage") or ""),
        }
    return {"type": "Error", "message": str(payload)}
