"""The api function: API Gateway REST proxy events -> the Powertools resolver."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from signoff.api.app import ApiServices, build_app
from signoff.redaction import RedactingFormatter
from signoff.settings import Settings

logger = Logger(logger_formatter=RedactingFormatter())
tracer = Tracer()
app = build_app(ApiServices.from_settings(Settings()))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
