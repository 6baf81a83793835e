"""The sandbox function: runs a python3 code node's source in a limited child process.

Its role grants no AWS action (template.yaml) and the child process gets no environment.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from signoff.redaction import RedactingFormatter
from signoff.sandbox import SandboxLimits, SandboxRequest, run_code
from signoff.settings import Settings

logger = Logger(logger_formatter=RedactingFormatter())
settings = Settings()
limits = SandboxLimits(
    cpu_seconds=settings.sandbox_cpu_seconds,
    memory_mb=settings.sandbox_memory_mb,
    wall_seconds=settings.sandbox_wall_seconds,
    max_output_bytes=settings.sandbox_max_output_bytes,
)


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    result = run_code(SandboxRequest.model_validate(event), limits)
    logger.info(
        "code ran", extra={"ok": result.ok, "error_type": result.error and result.error.type}
    )
    return result.to_response()
