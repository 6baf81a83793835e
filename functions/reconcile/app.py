"""The reconcile function: settles runs whose execution ended without settling them.

Its queue receives Step Functions' "Execution Status Change" events (FAILED, TIMED_OUT, ABORTED)
of the project's state machines; a message that fails is retried by SQS and, after its
maxReceiveCount, kept in the dead-letter queue.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from signoff.redaction import RedactingFormatter
from signoff.runs.reconcile import reconciler_from_settings
from signoff.settings import Settings

logger = Logger(logger_formatter=RedactingFormatter())
tracer = Tracer()
reconciler = reconciler_from_settings(Settings())


def reconcile_record(record: SQSRecord) -> str:
    return reconciler.reconcile_message(record.body).action


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # One processor per invocation: it keeps the batch's results, and invocations may overlap.
    processor = BatchProcessor(event_type=EventType.SQS)
    return process_partial_response(
        event=event, record_handler=reconcile_record, processor=processor, context=context
    )
