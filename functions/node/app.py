"""The node function: runs one workflow node (a Task of the run's state machine) and records it."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from signoff.events.emitter import emitter_from_settings
from signoff.events.lifecycle import RunLifecycle
from signoff.nodes.code_runner import LambdaCodeRunner
from signoff.nodes.integrations import Integrations
from signoff.nodes.progress import is_progress_request, record_progress
from signoff.nodes.runtime import run_node
from signoff.nodes.secrets import WorkflowSecretReader
from signoff.payloads import PayloadStore
from signoff.providers.registry import ChatModels
from signoff.redaction import RedactingFormatter
from signoff.settings import Settings
from signoff.store.node_executions import DynamoNodeExecutionRepository

logger = Logger(logger_formatter=RedactingFormatter())
tracer = Tracer()
settings = Settings()
executions = DynamoNodeExecutionRepository(settings.require("node_executions_table"))
code_runner = LambdaCodeRunner(
    settings.require("sandbox_function_name"),
    javascript_function_name=settings.sandbox_js_function_name,
)
payloads = PayloadStore.from_settings(settings)
chat_models = ChatModels.from_settings(settings)
integrations = Integrations.from_settings(settings)
events = RunLifecycle(emitter_from_settings(settings))
# Secret environment variables, read when a node needs one and kept for a while per container.
secrets = WorkflowSecretReader.from_settings(settings)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if is_progress_request(event):
        # An iteration's or loop's progress Task: only events to emit.
        return record_progress(event, events=events, payloads=payloads)
    return run_node(
        event,
        executions=executions,
        code_runner=code_runner,
        payloads=payloads,
        chat_models=chat_models,
        integrations=integrations,
        events=events,
        secrets=secrets,
    )
