"""The settle function: the state machine's last step brings the run record to its end."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from signoff.difyapi.sessions import DynamoSessionStore
from signoff.events.emitter import emitter_from_settings
from signoff.events.lifecycle import RunLifecycle
from signoff.redaction import RedactingFormatter
from signoff.runs.settlement import RunSettler
from signoff.settings import Settings
from signoff.store.runs import DynamoRunRepository

logger = Logger(logger_formatter=RedactingFormatter())
tracer = Tracer()
settings = Settings()
settler = RunSettler(
    DynamoRunRepository(settings.require("runs_table")),
    events=RunLifecycle(emitter_from_settings(settings)),
    # A session's run (Agno's session_id) saves its final conversation variables there.
    sessions=(
        DynamoSessionStore(settings.workflow_sessions_table)
        if settings.workflow_sessions_table
        else None
    ),
)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, str]:
    return settler.settle(event)
