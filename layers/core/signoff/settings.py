"""The deployment's configuration: one typed model, read once per cold start from the environment.

Every function gets only the variables template.yaml gives it, so every resource field is optional
here and the service that needs one asks for it with `require`, which names the missing variable.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from signoff.errors import ConfigurationError


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SIGNOFF_", extra="ignore", frozen=True)

    workflows_table: str | None = None
    runs_table: str | None = None
    node_executions_table: str | None = None
    api_keys_table: str | None = None

    node_function_arn: str | None = None
    settle_function_arn: str | None = None
    sandbox_function_name: str | None = None
    workflow_execution_role_arn: str | None = None
    state_machine_prefix: str = "signoff-dev"

    blocking_wait_seconds: float = Field(default=25.0, ge=0, le=29)

    # Code-node sandbox limits (the child process; the sandbox function's own timeout is larger).
    sandbox_cpu_seconds: int = Field(default=5, ge=1, le=60)
    sandbox_memory_mb: int = Field(default=256, ge=32, le=4096)
    sandbox_wall_seconds: float = Field(default=10.0, gt=0, le=60)
    sandbox_max_output_bytes: int = Field(default=1_000_000, ge=1024)

    def require(self, field: str) -> str:
        """The value of a resource setting this function needs, or a clear configuration error."""
        value = getattr(self, field)
        if not value:
            raise ConfigurationError(
                f"setting {field} is missing: set SIGNOFF_{field.upper()} for this function"
            )
        return str(value)
