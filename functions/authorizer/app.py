"""The authorizer function: a TOKEN authorizer turning `Bearer <key or token>` into a principal."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.data_classes import event_source
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerResponse,
    APIGatewayAuthorizerTokenEvent,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from signoff.auth.authorizer import Authorizer
from signoff.errors import Unauthorized
from signoff.redaction import RedactingFormatter
from signoff.settings import Settings

logger = Logger(logger_formatter=RedactingFormatter())
tracer = Tracer()
authorizer = Authorizer.from_settings(Settings())


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@event_source(data_class=APIGatewayAuthorizerTokenEvent)
def handler(event: APIGatewayAuthorizerTokenEvent, context: LambdaContext) -> dict[str, Any]:
    try:
        # The gateway itself refuses a request without the header; a direct invoke may not.
        principal = authorizer.authorize(event.get("authorizationToken"))
    except Unauthorized as refusal:
        logger.info("refused", extra={"reason": refusal.message})
        # API Gateway answers 401 (the UNAUTHORIZED gateway response) for exactly this error.
        raise Exception("Unauthorized") from None
    arn = event.parsed_arn
    policy = APIGatewayAuthorizerResponse(
        principal_id=principal.key_id,
        region=arn.region,
        aws_account_id=arn.aws_account_id,
        api_id=arn.api_id,
        stage=arn.stage,
        partition=arn.partition,
        context=principal.to_context(),
    )
    # The gateway caches this answer per credential: it must cover every route, not just this
    # one. What each kind of principal may do is decided by the api (signoff.api.access).
    policy.allow_all_routes()
    return policy.asdict()
