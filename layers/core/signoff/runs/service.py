"""Runs: start one on its workflow's state machine, read it back, and keep its record truthful.

The run record is the source of truth a client reads; the settle function writes its end. When an
execution ends without that write (a crashed settle, an execution timeout, a stop), reading the run
notices it through DescribeExecution and settles the record, so no run stays running after its
execution ended.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from signoff.errors import ConfigurationError, InvalidInput, NotFound, SignoffError
from signoff.events.lifecycle import RunLifecycle
from signoff.graph import parse_workflow, validate_inputs
from signoff.payloads import REF, PayloadStore, contains_ref
from signoff.runs.settlement import RunSettler, run_error
from signoff.settings import Settings
from signoff.store import parse_iso, utc_now_iso
from signoff.store.runs import RunRecord, RunRepository, RunStatus
from signoff.store.workflows import WorkflowRecord, WorkflowRepository

if TYPE_CHECKING:
    from signoff.store.node_executions import NodeExecution

logger = Logger(child=True)

# "streaming": the run is started and answered at once; its events are what the client reads.
ResponseMode = Literal["blocking", "streaming"]
# "step": the run pauses after every node, on the workflow's step state machine variant.
RunMode = Literal["normal", "step"]

# Node execution statuses of a node that has not finished yet.
_ACTIVE_NODE_STATUSES = frozenset({"pending", "running", "paused"})
_FIRST_POLL_SECONDS = 0.05
_MAX_POLL_SECONDS = 1.0


class RunStartFailed(SignoffError):
    """Step Functions refused to start the run's execution; the run is settled failed."""

    status = 502
    code = "run_start_failed"


class NodeExecutionReader(Protocol):
    def list_for_run(self, tenant_id: str, run_id: str) -> list[NodeExecution]: ...


class StateMachineVariants(Protocol):
    """signoff.reviews.variants.VariantStateMachines: a workflow's step and resume variants."""

    def arn(self, record: WorkflowRecord, variant: Literal["step", "resume"]) -> str: ...


@dataclass(frozen=True)
class Progress:
    finished_nodes: int
    total_nodes: int


@dataclass(frozen=True)
class RunSnapshot:
    """A run as a client sees it: its record, the nodes still at work, how far it got."""

    run: RunRecord
    current_nodes: list[NodeExecution] = field(default_factory=list)
    progress: Progress = field(default_factory=lambda: Progress(0, 0))

    @property
    def elapsed_seconds(self) -> float:
        start = parse_iso(self.run.created_at)
        end = parse_iso(self.run.finished_at) if self.run.finished_at else datetime.now(UTC)
        return max((end - start).total_seconds(), 0.0)


@dataclass(frozen=True)
class RunStart:
    """What starting a run answers: the finished run, or the run still going when the wait ended."""

    run: RunRecord
    snapshot: RunSnapshot | None = None

    @property
    def finished(self) -> bool:
        return self.snapshot is not None


class RunService:
    def __init__(
        self,
        runs: RunRepository,
        workflows: WorkflowRepository,
        node_executions: NodeExecutionReader,
        sfn_client: Any,
        settings: Settings,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        payloads: PayloadStore | None = None,
        variants: StateMachineVariants | None = None,
        events: RunLifecycle | None = None,
    ) -> None:
        self._runs = runs
        self._workflows = workflows
        self._node_executions = node_executions
        self._sfn = sfn_client
        self._settings = settings
        self._sleep = sleep
        self._clock = clock
        # Lifecycle events (signoff/events): run.started, and the run.* ending of every run
        # this service settles.
        self._events = events or RunLifecycle()
        self._settler = RunSettler(runs, events=self._events)
        # Large values (signoff/payloads.py): run inputs are offloaded before the execution
        # starts; what the run and its node records hold is resolved before it is answered.
        self._payloads = payloads
        self._variants = variants

    def start(
        self,
        tenant_id: str,
        workflow_id: str,
        inputs: dict[str, Any],
        user: str | None = None,
        response_mode: ResponseMode = "blocking",
        mode: RunMode = "normal",
        session: RunSession | None = None,
        version: int | None = None,
    ) -> RunStart:
        """`session`: the session the run belongs to (Agno's session_id): its id and its state,
        the conversation variables' values the run starts from (the run context's `session_id`
        and `conversation`; the settle function saves the run's final ones to it).
        `version`: the workflow version to run (WorkflowVersionNotFound when it has none such);
        the newest when not given. The run records the version it runs."""
        workflow_record = (
            self._workflows.get(tenant_id, workflow_id)
            if version is None
            else self._workflows.get_version(tenant_id, workflow_id, version)
        )
        workflow = parse_workflow(workflow_record.graph)
        valid_inputs = validate_inputs(workflow, inputs)
        # Before the run exists: a workflow that cannot run in this mode leaves no run behind.
        state_machine_arn = workflow_record.state_machine_arn
        if mode == "step":
            state_machine_arn = self._variant_arn(workflow_record, "step")
        run_id = str(uuid.uuid4())
        valid_inputs = self._offload_inputs(tenant_id, run_id, valid_inputs)
        run = self._runs.create(
            RunRecord(
                tenant_id=tenant_id,
                run_id=run_id,
                workflow_id=workflow_id,
                workflow_version=workflow_record.version,
                workflow_version_id=workflow_record.version_id,
                inputs=valid_inputs,
                user=user,
                created_at=utc_now_iso(),
                mode=mode,
            )
        )
        execution_input = {"run": run_context(run), "inputs": valid_inputs}
        if session is not None:
            execution_input["run"] |= session.context()
        run = self.launch(run, state_machine_arn, execution_input)
        if response_mode == "blocking":
            return self._wait_for_end(run)
        return RunStart(run=run)

    def launch(
        self, run: RunRecord, state_machine_arn: str, execution_input: dict[str, Any]
    ) -> RunRecord:
        """Start a created run's execution (named after the run) and mark the run running.
        Step Functions refusing settles the run failed and raises RunStartFailed."""
        # Before the execution starts, so run.started comes before any of its nodes' events.
        self._events.run_started(run)
        try:
            started = self._sfn.start_execution(
                stateMachineArn=state_machine_arn,
                name=run.run_id,
                input=json.dumps(execution_input),
            )
        except ClientError as error:
            details = error.response.get("Error", {})
            failed = self._runs.settle(
                run.tenant_id,
                run.run_id,
                RunStatus.FAILED,
                error=_error(
                    details.get("Code", "ExecutionNotStarted"), details.get("Message", str(error))
                ),
            )
            self._events.run_finished(failed)
            logger.exception("StartExecution failed", extra={"run_id": run.run_id})
            raise RunStartFailed(f"run {run.run_id} could not be started") from error
        return self._runs.mark_running(run.tenant_id, run.run_id, started["executionArn"])

    def _variant_arn(self, record: WorkflowRecord, variant: Literal["step", "resume"]) -> str:
        if self._variants is None:
            raise ConfigurationError(f"this deployment has no {variant} state machine variants")
        return self._variants.arn(record, variant)

    def get(self, tenant_id: str, run_id: str) -> RunSnapshot:
        return self._snapshot(self.reconcile(self._runs.get(tenant_id, run_id)))

    def list(self, tenant_id: str) -> list[RunRecord]:
        return sorted(self._runs.list(tenant_id), key=lambda run: run.created_at, reverse=True)

    def page(
        self,
        tenant_id: str,
        *,
        page: int,
        limit: int,
        workflow_id: str | None = None,
        status: RunStatus | None = None,
    ) -> tuple[list[RunRecord], bool]:
        """One page (from 1) of the tenant's runs, newest first, and whether more follow."""
        return self._runs.page(
            tenant_id,
            offset=(page - 1) * limit,
            limit=limit,
            workflow_id=workflow_id,
            status=status,
        )

    def list_nodes(self, tenant_id: str, run_id: str) -> list[NodeExecution]:
        # The run lookup is the tenant check: another tenant's run is NotFound here.
        self._runs.get(tenant_id, run_id)
        executions = self._node_executions.list_for_run(tenant_id, run_id)
        return [self._resolved_node(execution) for execution in executions]

    def settle(self, event: dict[str, Any]) -> dict[str, str]:
        return self._settler.settle(event)

    def reconcile(self, run: RunRecord) -> RunRecord:
        """Settle a run whose execution ended without settling it; otherwise return it as is."""
        if run.status.is_terminal or run.execution_arn is None:
            return run
        try:
            execution = self._sfn.describe_execution(executionArn=run.execution_arn)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ExecutionDoesNotExist":
                # Reading a run must not fail because Step Functions is throttling us.
                logger.warning("DescribeExecution failed", extra={"run_id": run.run_id})
                return run
            settled = self._runs.settle(
                run.tenant_id,
                run.run_id,
                RunStatus.FAILED,
                error=_error("ExecutionDoesNotExist", "the run's execution no longer exists"),
            )
            self._events.run_finished(settled)
            return settled
        outcome = execution_outcome(execution)
        if outcome is None:
            return run
        logger.info(
            "settling a run its execution ended without settling",
            extra={"run_id": run.run_id, "execution_status": execution["status"]},
        )
        settled = self._runs.settle(
            run.tenant_id, run.run_id, outcome.status, outputs=outcome.outputs, error=outcome.error
        )
        self._events.run_finished(settled)
        return settled

    def _wait_for_end(self, run: RunRecord) -> RunStart:
        deadline = self._clock() + self._settings.blocking_wait_seconds
        delay = _FIRST_POLL_SECONDS
        while True:
            run = self.reconcile(self._runs.get(run.tenant_id, run.run_id))
            if run.status.is_terminal:
                return RunStart(run=run, snapshot=self._snapshot(run))
            if run.status is RunStatus.PAUSED:
                # Waiting on a person may take days: answer now (202) rather than at the deadline.
                return RunStart(run=run)
            remaining = deadline - self._clock()
            if remaining <= 0:
                return RunStart(run=run)
            self._sleep(min(delay, remaining))
            delay = min(delay * 1.5, _MAX_POLL_SECONDS)

    def _snapshot(self, run: RunRecord) -> RunSnapshot:
        executions = self._node_executions.list_for_run(run.tenant_id, run.run_id)
        latest_by_node: dict[str, NodeExecution] = {}
        for execution in executions:
            latest_by_node[execution.node_id] = execution
        finished = sum(
            1 for node in latest_by_node.values() if node.status not in _ACTIVE_NODE_STATUSES
        )
        # A terminal run has no node at work, whatever a crashed node left in its record.
        current = (
            []
            if run.status.is_terminal
            else [node for node in latest_by_node.values() if node.status in _ACTIVE_NODE_STATUSES]
        )
        workflow_record = self._run_workflow(run)
        # Progress counts the nodes that leave execution records: logic nodes never do.
        total = (
            sum(
                1
                for node in parse_workflow(workflow_record.graph).nodes
                if node.runs_in_node_function
            )
            if workflow_record is not None
            else len(latest_by_node)
        )
        return RunSnapshot(
            run=self._resolved_run(run),
            current_nodes=[self._resolved_node(node) for node in current],
            progress=Progress(finished, total),
        )

    def _run_workflow(self, run: RunRecord) -> WorkflowRecord | None:
        """The workflow as of the version the run is on (None when it is gone)."""
        try:
            return self._workflows.get_version(run.tenant_id, run.workflow_id, run.workflow_version)
        except NotFound:
            return None

    # -------------------------------------------------------------- large values

    def _offload_inputs(
        self, tenant_id: str, run_id: str, inputs: dict[str, Any]
    ) -> dict[str, Any]:
        if contains_ref(inputs):
            # References are the engine's own: one from a client could name any stored value.
            raise InvalidInput(f"inputs may not contain {REF}", field="inputs")
        if self._payloads is None:
            return inputs
        return self._payloads.offload(inputs, tenant_id=tenant_id, run_id=run_id, label="inputs")

    def _resolve(self, tenant_id: str, value: Any) -> Any:
        if self._payloads is None:
            return value
        # A run record outlives its large values (the bucket expires them): an expired one is
        # answered as its reference rather than failing the whole read.
        return self._payloads.resolve(value, tenant_id=tenant_id, missing="keep")

    def _resolved_run(self, run: RunRecord) -> RunRecord:
        return run.model_copy(
            update={
                "inputs": self._resolve(run.tenant_id, run.inputs),
                "outputs": self._resolve(run.tenant_id, run.outputs),
            }
        )

    def _resolved_node(self, execution: NodeExecution) -> NodeExecution:
        return execution.model_copy(
            update={
                "inputs": self._resolve(execution.tenant_id, execution.inputs),
                "outputs": self._resolve(execution.tenant_id, execution.outputs),
            }
        )


@dataclass(frozen=True)
class ExecutionOutcome:
    """How a run ends, read from its ended execution."""

    status: RunStatus
    outputs: dict[str, Any] | None = None
    error: dict[str, Any] | None = None


def execution_outcome(execution: dict[str, Any]) -> ExecutionOutcome | None:
    """The run's end for an execution that ended (DescribeExecution), or None while it runs."""
    status = execution["status"]
    error = execution.get("error") or None
    cause = execution.get("cause") or None
    if status == "FAILED":
        failure = _error(error or "States.Failed", cause or "the execution failed")
        return ExecutionOutcome(RunStatus.FAILED, error=failure)
    if status == "TIMED_OUT":
        failure = _error(
            error or "States.Timeout", cause or "the run reached its execution timeout"
        )
        return ExecutionOutcome(RunStatus.FAILED, error=failure)
    if status == "ABORTED":
        stop = _error(error or "ExecutionAborted", cause or "the execution was stopped")
        return ExecutionOutcome(RunStatus.STOPPED, error=stop)
    if status == "SUCCEEDED":
        # A compiled state machine's output is the run's outputs (compiler/lowering/settle.py).
        try:
            outputs = json.loads(execution.get("output") or "null")
        except ValueError:
            outputs = None
        return ExecutionOutcome(
            RunStatus.SUCCEEDED, outputs=outputs if isinstance(outputs, dict) else None
        )
    return None


@dataclass(frozen=True)
class RunSession:
    """A run's session: its id and the conversation variables' values it starts from."""

    session_id: str
    conversation: dict[str, Any]

    def context(self) -> dict[str, Any]:
        return {"session_id": self.session_id, "conversation": self.conversation}


def run_context(run: RunRecord) -> dict[str, Any]:
    """The execution's `$run` (docs/internals.md)."""
    return {
        "run_id": run.run_id,
        "tenant_id": run.tenant_id,
        "workflow_id": run.workflow_id,
        "workflow_version": run.workflow_version,
        "user": run.user,
    }


def _error(error: str, cause: str) -> dict[str, Any]:
    return run_error({"node_id": None, "error": error, "cause": cause})
