"""The webhook fan-out function: lifecycle events (EventBridge -> SQS) -> one deliveries-queue
message per matching subscription (signoff/webhooks/fanout.py). Failed records are retried."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from signoff.redaction import RedactingFormatter
from signoff.settings import Settings
from signoff.webhooks.fanout import WebhookFanout

logger = Logger(logger_formatter=RedactingFormatter())
tracer = Tracer()
fanout = WebhookFanout.from_settings(Settings())


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # One processor and one batch per invocation: they keep the batch's results and the
    # subscriptions it read, and invocations may overlap.
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    return process_partial_response(
        event=event,
        record_handler=fanout.batch().handle_record,
        processor=processor,
        context=context,
    )
