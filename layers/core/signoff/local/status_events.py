"""Step Functions "Execution Status Change" events, which moto never sends.

On AWS, every standard execution that ends puts an event on the account's default bus: source
`aws.states`, detail-type `Step Functions Execution Status Change`, the execution in `detail`
(times as epoch milliseconds, input and output as JSON text). The local cloud sends the same event
at the moment moto records the end of an execution (moto_patches hooks that moment), through
moto's EventBridge, so rules, patterns and their SQS targets see it exactly as they would on AWS.
"""

from __future__ import annotations

import datetime
import json
import logging
from typing import Any

from moto.events.models import events_backends
from moto.stepfunctions.parser.asl.eval.program_state import ProgramStopped

logger = logging.getLogger(__name__)

STATUS_CHANGE_SOURCE = "aws.states"
STATUS_CHANGE_DETAIL_TYPE = "Step Functions Execution Status Change"
TERMINAL_EXECUTION_STATUSES = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})


def status_change_detail(execution: Any) -> dict[str, Any]:
    """The event's detail for a moto execution (parser backend `Execution`) that ended."""
    status = _status(execution)
    error, cause = execution.error, execution.cause
    if status == "ABORTED":
        # moto keeps a stop's error and cause on the program state only (and its StopExecution
        # API passes empty ones: AWS's would carry the caller's).
        stopped = _program_state(execution)
        if isinstance(stopped, ProgramStopped):
            error, cause = stopped.error or None, stopped.cause or None
    succeeded = status == "SUCCEEDED"
    return {
        "executionArn": execution.exec_arn,
        "stateMachineArn": execution.state_machine_arn,
        "name": execution.name,
        "status": status,
        "startDate": _epoch_ms(execution.start_date),
        "stopDate": _epoch_ms(execution.stop_date),
        "input": _json_text(execution.input_data),
        "output": _json_text(execution.output) if succeeded else None,
        "inputDetails": {"included": True},
        "outputDetails": {"included": True} if succeeded else None,
        "error": error,
        "cause": cause,
        "redriveCount": 0,
        "redriveDate": None,
        "redriveStatus": "NOT_REDRIVABLE" if succeeded else "REDRIVABLE",
        "redriveStatusReason": None,
    }


def publish_status_change(execution: Any) -> None:
    """Put the status change of an ended execution on its account's default bus. Never raises:
    a failure here must not change how the execution ended."""
    try:
        status = _status(execution)
        if status not in TERMINAL_EXECUTION_STATUSES:
            return
        backend = events_backends[execution.account_id][execution.region_name]
        entries = backend.put_events(
            [
                {
                    "Source": STATUS_CHANGE_SOURCE,
                    "DetailType": STATUS_CHANGE_DETAIL_TYPE,
                    "Detail": json.dumps(status_change_detail(execution)),
                    "Resources": [execution.exec_arn],
                    "EventBusName": "default",
                }
            ]
        )
        failed = [entry for entry in entries if "ErrorCode" in entry]
        if failed:
            logger.warning("the status change of %s was refused: %s", execution.exec_arn, failed)
    except Exception:
        logger.exception("publishing the status change of an execution failed")


def _status(execution: Any) -> str | None:
    status = getattr(execution, "exec_status", None)
    return getattr(status, "value", status)


def _program_state(execution: Any) -> Any:
    worker = getattr(execution, "exec_worker", None)
    environment = getattr(worker, "env", None)
    return environment.program_state() if environment is not None else None


def _epoch_ms(moment: datetime.datetime | None) -> int | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return int(moment.timestamp() * 1000)


def _json_text(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))
