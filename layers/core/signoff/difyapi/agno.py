"""Agno's workflow API on signoff's runs: its run form, its run output and its stream's events.

Agno runs a workflow from one `message` (a multipart form field) in a session; a signoff workflow
takes named inputs, so the message becomes the inputs (`inputs_for_message`). The output's
`content` is the run's outputs (the one value when there is one), `step_results` the node
executions, statuses Agno's (RunStatus: PENDING, RUNNING, COMPLETED, PAUSED, CANCELLED, ERROR).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from signoff.difyapi.sessions import (
    SessionChanged,
    SessionStore,
    WorkflowSession,
    initial_state,
)
from signoff.difyapi.shapes import unix_seconds
from signoff.errors import Conflict, InvalidInput, NotFound
from signoff.graph import parse_workflow
from signoff.graph.model import Workflow
from signoff.runs.service import RunService, RunSession, RunSnapshot
from signoff.store.runs import RunRecord, RunRepository, RunStatus
from signoff.store.workflows import WorkflowRecord, WorkflowRepository

# Inputs a message goes to first, by name; else the first text input.
_MESSAGE_INPUTS = ("message", "query", "input", "prompt", "text")
_TEXT_TYPES = ("string", "paragraph")
AGNO_STATUS = {
    RunStatus.PENDING: "PENDING",
    RunStatus.RUNNING: "RUNNING",
    RunStatus.PAUSED: "PAUSED",
    RunStatus.SUCCEEDED: "COMPLETED",
    RunStatus.PARTIAL_SUCCEEDED: "COMPLETED",
    RunStatus.FAILED: "ERROR",
    RunStatus.STOPPED: "CANCELLED",
}


class AgnoRunForm(BaseModel):
    """Agno's run request (multipart/form-data)."""

    model_config = ConfigDict(extra="ignore")

    message: str = Field(min_length=1, description="The workflow's input message.")
    stream: bool = Field(default=True, description="Server-sent events (the default) or JSON.")
    session_id: str | None = Field(
        default=None, description="Runs of one session share its state; new when left out."
    )
    user_id: str | None = Field(default=None, description="Who the run is for (sys.user).")


class AgnoStepResult(BaseModel):
    step_name: str
    content: Any = None
    metrics: dict[str, Any] = Field(default_factory=dict)
    success: bool


class AgnoRunOutput(BaseModel):
    run_id: str
    input: str
    session_id: str
    workflow_id: str
    workflow_name: str
    created_at: int
    content: Any = None
    status: str
    step_results: list[AgnoStepResult]
    images: list[Any] = Field(default_factory=list)
    videos: list[Any] = Field(default_factory=list)
    audio: list[Any] = Field(default_factory=list)
    metrics: dict[str, Any] = Field(default_factory=dict)


class NodeExecutionReader(Protocol):
    def list_for_run(self, tenant_id: str, run_id: str) -> list[Any]: ...


class RunStopper(Protocol):
    def cancel(self, tenant_id: str, run_id: str, *, cancelled_by: str) -> RunRecord: ...


@dataclass(frozen=True)
class AgnoRun:
    """A run started from Agno's form: what its answers and events name."""

    run: RunRecord
    session_id: str
    message: str
    workflow_name: str


def agno_status(status: RunStatus | str) -> str:
    return AGNO_STATUS[RunStatus(status)]


def content_of(outputs: dict[str, Any] | None) -> Any:
    """Agno's `content`: the one output's value, or every output when there are several."""
    if not outputs:
        return None
    if len(outputs) == 1:
        return next(iter(outputs.values()))
    return outputs


def inputs_for_message(workflow: Workflow, message: str) -> dict[str, Any]:
    """The inputs a message stands for: a JSON object naming declared inputs is those inputs;
    otherwise the text goes to the input named message, query, input, prompt or text, else to the
    first text input. A workflow with inputs but none for text cannot take a message."""
    declared = {variable.variable: variable for variable in workflow.inputs}
    try:
        parsed = json.loads(message)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict) and parsed and all(name in declared for name in parsed):
        return parsed
    if not declared:
        return {}
    for name in _MESSAGE_INPUTS:
        if name in declared:
            return {name: message}
    for variable in workflow.inputs:
        if variable.type in _TEXT_TYPES:
            return {variable.variable: message}
    raise InvalidInput(
        "this workflow has no text input for the message: send a JSON object of its inputs",
        field="message",
    )


def step_results(executions: list[Any]) -> list[dict[str, Any]]:
    """One result per node that ran, its latest attempt, in the order the nodes started."""
    latest: dict[str, Any] = {}
    for execution in executions:
        latest[execution.node_id] = execution
    results = []
    for execution in latest.values():
        error = execution.error
        results.append(
            {
                "step_name": execution.title or execution.node_id,
                "content": content_of(execution.outputs)
                if execution.status != "failed"
                else getattr(error, "message", None),
                "metrics": {"duration": (execution.elapsed_ms or 0) / 1000},
                "success": execution.status == "succeeded",
            }
        )
    return results


def run_output(agno_run: AgnoRun, snapshot: RunSnapshot, executions: list[Any]) -> dict[str, Any]:
    run = snapshot.run
    content = content_of(run.outputs)
    if run.status in (RunStatus.FAILED, RunStatus.STOPPED) and run.error:
        content = run.error.get("message")
    return {
        "run_id": run.run_id,
        "input": agno_run.message,
        "session_id": agno_run.session_id,
        "workflow_id": run.workflow_id,
        "workflow_name": agno_run.workflow_name,
        "created_at": unix_seconds(run.created_at),
        "content": content,
        "status": agno_status(run.status),
        "step_results": step_results(executions),
        "images": [],
        "videos": [],
        "audio": [],
        "metrics": {
            "duration": round(snapshot.elapsed_seconds, 3),
            "total_tokens": run.total_tokens,
            "total_price": run.total_price,
        },
    }


class AgnoWorkflowService:
    def __init__(
        self,
        runs: RunService,
        run_records: RunRepository,
        workflows: WorkflowRepository,
        node_executions: NodeExecutionReader,
        sessions: SessionStore | None = None,
        stopper: RunStopper | None = None,
    ) -> None:
        self._runs = runs
        self._run_records = run_records
        self._workflows = workflows
        self._node_executions = node_executions
        self._sessions = sessions
        self._stopper = stopper

    def start(self, tenant_id: str, workflow_id: str, form: AgnoRunForm) -> AgnoRun:
        """Start a run from Agno's form, in its session (new when the form names none)."""
        record = self._workflows.get(tenant_id, workflow_id)
        workflow = parse_workflow(record.graph)
        session_id = form.session_id or str(uuid.uuid4())
        session = self._open_session(tenant_id, record, workflow, session_id, form.user_id)
        started = self._runs.start(
            tenant_id,
            workflow_id,
            inputs_for_message(workflow, form.message),
            user=form.user_id,
            response_mode="blocking" if not form.stream else "streaming",
            # The run's conversation variables start from the session's state; the settle
            # function saves the run's final ones back (runs/settlement.py).
            session=RunSession(session_id=session_id, conversation=session.state),
            # The version read above, whose inputs these are: an update meanwhile does not
            # change what this run runs.
            version=record.version,
        )
        self._remember_run(session, started.run.run_id)
        return AgnoRun(
            run=started.run,
            session_id=session_id,
            message=form.message,
            workflow_name=record.name,
        )

    def output(self, tenant_id: str, agno_run: AgnoRun) -> dict[str, Any]:
        """The run's Agno output as it stands."""
        snapshot = self._runs.get(tenant_id, agno_run.run.run_id)
        executions = self._node_executions.list_for_run(tenant_id, agno_run.run.run_id)
        return run_output(agno_run, snapshot, executions)

    def cancel(self, tenant_id: str, workflow_id: str, run_id: str, *, by: str) -> None:
        run = self._run_records.get(tenant_id, run_id)
        if run.workflow_id != workflow_id:
            raise NotFound(f"run {run_id} not found")
        if self._stopper is None:
            raise NotFound("this deployment cannot cancel runs (no reviews table)")
        if run.status.is_terminal:
            return
        try:
            self._stopper.cancel(tenant_id, run_id, cancelled_by=by)
        except Conflict:
            if not self._run_records.get(tenant_id, run_id).status.is_terminal:
                raise

    # ---------------------------------------------------------------- sessions

    def _open_session(
        self,
        tenant_id: str,
        record: WorkflowRecord,
        workflow: Workflow,
        session_id: str,
        user_id: str | None,
    ) -> WorkflowSession:
        """The stored session, else a new one; its state is the conversation variables' values,
        the declared ones filling names the state lacks (a variable added since it began)."""
        stored = (
            self._sessions.find(tenant_id, record.workflow_id, session_id)
            if self._sessions is not None
            else None
        )
        declared = initial_state(workflow.conversation_variables)
        if stored is None:
            return WorkflowSession(
                tenant_id=tenant_id,
                workflow_id=record.workflow_id,
                session_id=session_id,
                user_id=user_id,
                state=declared,
            )
        return stored.model_copy(update={"state": {**declared, **stored.state}})

    def _remember_run(self, session: WorkflowSession, run_id: str) -> None:
        """Store the session (created by its first run) with its latest run."""
        if self._sessions is None:
            return
        current = session
        for _ in range(3):
            try:
                self._sessions.save(current.model_copy(update={"last_run_id": run_id}))
                return
            except SessionChanged:
                stored = self._sessions.find(
                    session.tenant_id, session.workflow_id, session.session_id
                )
                if stored is None:
                    return
                current = stored
