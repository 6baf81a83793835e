"""The review function: a run's review waits invoke it with their task token.

"request" stores the review (the token stays in the Reviews table) and pauses the run; "expire"
closes a review whose wait timed out and lets the run go on (signoff/reviews/waits.py).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from signoff.events.emitter import emitter_from_settings
from signoff.events.lifecycle import RunLifecycle
from signoff.redaction import RedactingFormatter
from signoff.reviews.waits import ReviewWaits
from signoff.settings import Settings
from signoff.store.reviews import DynamoReviewRepository
from signoff.store.runs import DynamoRunRepository

logger = Logger(logger_formatter=RedactingFormatter())
tracer = Tracer()
settings = Settings()
waits = ReviewWaits(
    DynamoReviewRepository(settings.require("reviews_table")),
    DynamoRunRepository(settings.require("runs_table")),
    events=RunLifecycle(emitter_from_settings(settings)),
)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return waits.handle(event)
