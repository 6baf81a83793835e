"""The webhook delivery function: one signed POST per deliveries-queue message, logged; failed
ones are hidden for the retry schedule's next delay and reported as batch item failures
(signoff/webhooks/delivery.py)."""

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
from signoff.webhooks.delivery import WebhookDeliverer

logger = Logger(logger_formatter=RedactingFormatter())
tracer = Tracer()
deliverer = WebhookDeliverer.from_settings(Settings())


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # One processor per invocation: it keeps the batch's results, and invocations may overlap.
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    return process_partial_response(
        event=event, record_handler=deliverer.handle_record, processor=processor, context=context
    )
