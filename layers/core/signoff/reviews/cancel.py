"""Cancelling a run: stop its execution, settle it `stopped`, close its open reviews.

The order matters for a decision racing the cancel: a review decided before its close finds its
token refused (the execution is stopped) and expires with 409; one decided after finds it
cancelled (409). Either way Step Functions runs nothing more and the run ends `stopped`.
"""

from __future__ import annotations

from typing import Any, Protocol

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from signoff.errors import Conflict
from signoff.events.lifecycle import RunLifecycle
from signoff.reviews.decisions import ReviewService
from signoff.store.runs import RunRecord, RunRepository, RunStatus

logger = Logger(child=True)

CANCEL_ERROR = "Cancelled"


class RunReconciler(Protocol):
    def reconcile(self, run: RunRecord) -> RunRecord: ...


class RunAlreadyEnded(Conflict):
    code = "run_ended"


class RunCanceller:
    def __init__(
        self,
        runs: RunRepository,
        reviews: ReviewService,
        sfn_client: Any,
        reconciler: RunReconciler,
        *,
        events: RunLifecycle | None = None,
    ) -> None:
        self._runs = runs
        self._reviews = reviews
        self._sfn = sfn_client
        self._reconciler = reconciler
        self._events = events or RunLifecycle()

    def cancel(self, tenant_id: str, run_id: str, *, cancelled_by: str) -> RunRecord:
        # Reconciled first: a run whose execution already ended is settled, not cancelled.
        run = self._reconciler.reconcile(self._runs.get(tenant_id, run_id))
        if run.status.is_terminal:
            raise RunAlreadyEnded(f"run {run_id} has already ended ({run.status.value})")
        message = f"the run was cancelled (key {cancelled_by})" if cancelled_by else "cancelled"
        if run.execution_arn is not None:
            try:
                self._sfn.stop_execution(
                    executionArn=run.execution_arn, error=CANCEL_ERROR, cause=message
                )
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") != "ExecutionDoesNotExist":
                    raise
        stopped = self._runs.settle(
            tenant_id,
            run_id,
            RunStatus.STOPPED,
            error={"node_id": None, "type": CANCEL_ERROR, "message": message},
        )
        self._events.run_finished(stopped)
        closed = self._reviews.cancel_open(tenant_id, run_id)
        logger.info(
            "run cancelled",
            extra={"run_id": run_id, "status": stopped.status.value, "reviews_closed": len(closed)},
        )
        return stopped
