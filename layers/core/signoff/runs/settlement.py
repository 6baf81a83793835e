"""Settling a run: what the settle function does when a workflow's execution reaches its end."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from signoff.difyapi.sessions import SessionStore, save_conversation
from signoff.events.lifecycle import RunLifecycle
from signoff.store.runs import RunRepository, RunStatus, RunUsage


class SettledRunContext(BaseModel):
    """The run context the execution carries (`$run`); only the keys are needed here."""

    model_config = ConfigDict(extra="allow")

    run_id: str
    tenant_id: str
    # A run of a session (Agno's session_id): its conversation variables as the run ended them,
    # saved to the session (compiler/lowering/start.py keeps them in `$run`).
    workflow_id: str | None = None
    session_id: str | None = None
    conversation: dict[str, Any] | None = None


class UsageTotals(BaseModel):
    """`$usage` of the state machine: tokens and price summed over the run's model calls."""

    model_config = ConfigDict(extra="allow")

    total_tokens: int | float | None = 0
    total_price: float | str | None = 0
    currency: str | None = None

    def run_usage(self) -> RunUsage:
        price = Decimal(str(self.total_price or 0))
        return RunUsage(
            total_tokens=int(self.total_tokens or 0),
            total_price=format(price.normalize(), "f") if price else "0",
            currency=self.currency,
        )


class SettleEvent(BaseModel):
    """The settle function's input, as the compiled state machine sends it."""

    run: SettledRunContext
    status: Literal["succeeded", "partial-succeeded", "failed", "stopped"]
    outputs: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    # Nodes whose error strategy handled a failure, and the model usage summed over the run.
    exceptions: int = 0
    usage: UsageTotals | None = None


class RunSettler:
    def __init__(
        self,
        runs: RunRepository,
        *,
        events: RunLifecycle | None = None,
        sessions: SessionStore | None = None,
    ) -> None:
        self._runs = runs
        self._events = events or RunLifecycle()
        self._sessions = sessions

    def settle(self, event: dict[str, Any]) -> dict[str, str]:
        """Bring the run to the event's terminal status; a terminal run keeps the one it has.

        Answers `{"run_id", "status"}` with the status the run ends up with.
        """
        settle = SettleEvent.model_validate(event)
        status = RunStatus(settle.status)
        # A run whose nodes failed but were handled by their error strategy still finished.
        if status is RunStatus.SUCCEEDED and settle.exceptions > 0:
            status = RunStatus.PARTIAL_SUCCEEDED
        context = settle.run
        if (
            self._sessions is not None
            and context.workflow_id
            and context.session_id
            and context.conversation is not None
        ):
            # Before the run is terminal: whoever sees it ended (the next run of the session)
            # finds the session saved.
            save_conversation(
                self._sessions,
                tenant_id=context.tenant_id,
                workflow_id=context.workflow_id,
                session_id=context.session_id,
                run_id=context.run_id,
                conversation=context.conversation,
            )
        record = self._runs.settle(
            settle.run.tenant_id,
            settle.run.run_id,
            status,
            outputs=settle.outputs,
            error=run_error(settle.error) if settle.error else None,
            **({"usage": settle.usage.run_usage()} if settle.usage is not None else {}),
        )
        # The run's terminal event, as the record ended (the log keeps one per run).
        self._events.run_finished(record, exceptions_count=settle.exceptions)
        return {"run_id": record.run_id, "status": record.status.value}


def run_error(error: dict[str, Any]) -> dict[str, Any]:
    """A run's error as clients read it: `{node_id, type, message}`.

    The state machine reports `{node_id, error, cause}` as Step Functions gives them: `error` is
    the error name Retry/Catch matched, and a Lambda function's `cause` is its error JSON
    (`errorType`, `errorMessage`, `stackTrace`), whose message is kept and stack trace dropped.
    """
    cause = error.get("cause", error.get("message"))
    message = cause
    if isinstance(cause, str):
        try:
            decoded = json.loads(cause)
        except ValueError:
            decoded = None
        if isinstance(decoded, dict) and "errorMessage" in decoded:
            message = decoded["errorMessage"]
    elif isinstance(cause, dict):
        message = cause.get("errorMessage", json.dumps(cause))
    return {
        "node_id": error.get("node_id"),
        "type": error.get("error", error.get("type")) or "Error",
        "message": str(message) if message is not None else "",
    }
