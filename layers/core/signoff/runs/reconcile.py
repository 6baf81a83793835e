"""Terminal states always arrive: settling runs from Step Functions' status-change events.

A run is normally settled by its own state machine (the settle function is its last step). An
execution can end without that step: it times out (the workflow's `timeout_seconds`), someone
stops it (StopExecution outside the cancel route), or it fails outside a node (the settle function
itself crashes, a `States.Runtime` error no Catch takes). Step Functions then sends an "Execution
Status Change" event; an EventBridge rule (template.yaml, ExecutionStatusRule) passes the FAILED,
TIMED_OUT and ABORTED ones of the project's state machines through a queue to the reconcile
function, which calls `ExecutionReconciler`.

The reconciler finds the run the execution ran and, unless it already ended, settles it with one
conditional write (a settle that raced it wins or loses cleanly): TIMED_OUT -> failed
(`States.Timeout`), ABORTED -> stopped (the stop's error, else `ExecutionAborted`), FAILED ->
failed with the execution's error and cause. Then it closes the run's pending reviews and emits the
terminal run event. A run already terminal is left as it is.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from aws_lambda_powertools import Logger
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from signoff.errors import InvalidInput
from signoff.runs.service import execution_outcome
from signoff.store.runs import RunRecord, RunStatus, RunUsage

logger = Logger(child=True)

STATUS_CHANGE_SOURCE = "aws.states"
STATUS_CHANGE_DETAIL_TYPE = "Step Functions Execution Status Change"
# The end statuses that can leave a run unsettled; SUCCEEDED passed through the settle step.
RECONCILED_STATUSES = frozenset({"FAILED", "TIMED_OUT", "ABORTED"})

ReconcileAction = Literal["settled", "already_ended", "unknown_run", "ignored"]


class ExecutionStatusChange(BaseModel):
    """The `detail` of a Step Functions "Execution Status Change" event."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    execution_arn: str = Field(alias="executionArn")
    state_machine_arn: str = Field(alias="stateMachineArn")
    name: str
    status: str
    start_date: int | None = Field(default=None, alias="startDate")
    stop_date: int | None = Field(default=None, alias="stopDate")
    input: str | None = None
    output: str | None = None
    error: str | None = None
    cause: str | None = None

    def run_key(self) -> tuple[str, str] | None:
        """(tenant, run) from the execution input's `run` context, when the event carries it
        (AWS leaves the input out of an event that would be too large)."""
        try:
            context = json.loads(self.input or "null")["run"]
            return str(context["tenant_id"]), str(context["run_id"])
        except (ValueError, TypeError, KeyError):
            return None


@dataclass(frozen=True)
class ReconcileOutcome:
    """What the reconciler did for one status change."""

    execution_arn: str
    action: ReconcileAction
    run_id: str | None = None
    status: str | None = None  # the run's status afterwards


class RunsByExecution(Protocol):
    """signoff.store.runs.DynamoRunRepository, the part the reconciler uses."""

    def find(self, tenant_id: str, run_id: str) -> RunRecord | None: ...

    def find_by_execution_arn(self, execution_arn: str) -> RunRecord | None: ...

    def settle_once(
        self,
        tenant_id: str,
        run_id: str,
        status: RunStatus,
        outputs: dict[str, Any] | None = None,
        error: dict[str, Any] | None = None,
        usage: RunUsage | None = None,
    ) -> tuple[RunRecord, bool]: ...


class PendingReviews(Protocol):
    """signoff.reviews.decisions.ReviewService.cancel_open."""

    def cancel_open(self, tenant_id: str, run_id: str) -> list[Any]: ...


class RunEndAnnouncer(Protocol):
    """signoff.events.lifecycle.RunLifecycle.run_finished."""

    def run_finished(self, run: RunRecord) -> Any: ...


class ExecutionReconciler:
    def __init__(
        self,
        runs: RunsByExecution,
        reviews: PendingReviews,
        announcer: RunEndAnnouncer | None = None,
    ) -> None:
        self._runs = runs
        self._reviews = reviews
        self._announcer = announcer

    def reconcile_message(self, body: str) -> ReconcileOutcome:
        """One queued EventBridge event (the SQS message body the rule delivered)."""
        try:
            event = json.loads(body)
        except ValueError as exc:
            raise InvalidInput(f"the message is not an EventBridge event: {exc}") from exc
        if not isinstance(event, Mapping) or not isinstance(event.get("detail"), Mapping):
            raise InvalidInput("the message is not an EventBridge event: it has no detail")
        if (event.get("source"), event.get("detail-type")) != (
            STATUS_CHANGE_SOURCE,
            STATUS_CHANGE_DETAIL_TYPE,
        ):
            raise InvalidInput(
                f"unexpected event {event.get('source')!r} / {event.get('detail-type')!r}"
            )
        return self.reconcile(event["detail"])

    def reconcile(self, detail: Mapping[str, Any]) -> ReconcileOutcome:
        """Settle the run of an execution that ended, unless it already ended."""
        try:
            change = ExecutionStatusChange.model_validate(detail)
        except ValidationError as exc:
            raise InvalidInput(f"not an execution status change: {exc}") from exc
        if change.status not in RECONCILED_STATUSES:
            return ReconcileOutcome(change.execution_arn, "ignored")
        run = self._find_run(change)
        if run is None:
            # Not a run of this deployment (or one deleted since): nothing to settle.
            logger.warning("no run for an ended execution", extra={"execution": change.name})
            return ReconcileOutcome(change.execution_arn, "unknown_run")
        if run.status.is_terminal:
            return ReconcileOutcome(
                change.execution_arn, "already_ended", run.run_id, run.status.value
            )

        outcome = execution_outcome(
            {"status": change.status, "error": change.error, "cause": change.cause}
        )
        assert outcome is not None  # every reconciled status is an end
        settled, ended_it = self._runs.settle_once(
            run.tenant_id, run.run_id, outcome.status, outputs=None, error=outcome.error
        )
        if not ended_it:
            # The settle function (or a cancel) got there between the read and the write.
            return ReconcileOutcome(
                change.execution_arn, "already_ended", run.run_id, settled.status.value
            )
        closed = self._reviews.cancel_open(run.tenant_id, run.run_id)
        logger.info(
            "settled a run its execution ended without settling",
            extra={
                "run_id": run.run_id,
                "execution_status": change.status,
                "run_status": settled.status.value,
                "reviews_closed": len(closed),
            },
        )
        if self._announcer is not None:
            self._announcer.run_finished(settled)
        return ReconcileOutcome(change.execution_arn, "settled", run.run_id, settled.status.value)

    def _find_run(self, change: ExecutionStatusChange) -> RunRecord | None:
        key = change.run_key()
        if key is not None:
            run = self._runs.find(*key)
            # The input names the run; the run must name this execution (or none yet: a fast
            # end can come before the run records its execution, whose name is the run id).
            if run is not None and (
                run.execution_arn == change.execution_arn
                or (run.execution_arn is None and change.name == run.run_id)
            ):
                return run
        return self._runs.find_by_execution_arn(change.execution_arn)


def reconciler_from_settings(settings: Any) -> ExecutionReconciler:
    """The reconcile function's service: the runs and reviews tables, and the event emitter."""
    import boto3

    from signoff.events.emitter import emitter_from_settings
    from signoff.events.lifecycle import RunLifecycle
    from signoff.reviews.decisions import ReviewService
    from signoff.store.reviews import DynamoReviewRepository
    from signoff.store.runs import DynamoRunRepository

    dynamodb = boto3.client("dynamodb")
    runs = DynamoRunRepository(settings.require("runs_table"), dynamodb)
    reviews = ReviewService(
        DynamoReviewRepository(settings.require("reviews_table"), dynamodb),
        runs,
        boto3.client("stepfunctions"),
    )
    lifecycle = RunLifecycle(emitter_from_settings(settings, dynamodb=dynamodb))
    return ExecutionReconciler(runs, reviews, lifecycle)
