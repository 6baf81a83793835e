"""The deployment's configuration: one typed model, read once per cold start from the environment.

Every function gets only the variables template.yaml gives it, so every resource field is optional
here and the service that needs one asks for it with `require`, which names the missing variable.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from signoff.errors import ConfigurationError
from signoff.nodes.registry import RetrieverTarget, ToolTarget
from signoff.providers.config import LlmProviderConfig, ModelPrice
from signoff.ratelimit.plans import RatePlan


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SIGNOFF_", extra="ignore", frozen=True)

    workflows_table: str | None = None
    runs_table: str | None = None
    node_executions_table: str | None = None
    api_keys_table: str | None = None

    node_function_arn: str | None = None
    settle_function_arn: str | None = None
    sandbox_function_name: str | None = None
    # javascript code nodes run in their own (Node.js) sandbox function.
    sandbox_js_function_name: str | None = None
    workflow_execution_role_arn: str | None = None
    state_machine_prefix: str = "signoff-dev"

    blocking_wait_seconds: float = Field(default=25.0, ge=0, le=29)

    # Lifecycle events (signoff/events; docs/internals.md "Events"): each run's event log, and the
    # project's EventBridge bus they are published to. Without the table a function emits nothing.
    run_events_table: str | None = None
    event_bus_name: str | None = None

    # Human in the loop: the reviews a run waits on, and the function its review waits invoke.
    reviews_table: str | None = None
    review_function_arn: str | None = None

    # Code-node sandbox limits (the child process; the sandbox function's own timeout is larger).
    sandbox_cpu_seconds: int = Field(default=5, ge=1, le=60)
    sandbox_memory_mb: int = Field(default=256, ge=32, le=4096)
    sandbox_wall_seconds: float = Field(default=10.0, gt=0, le=60)
    sandbox_max_output_bytes: int = Field(default=1_000_000, ge=1024)

    # Large values (signoff/payloads.py): a node output or run input whose JSON is larger than the
    # threshold moves to the payloads bucket and travels by reference. 32 KiB leaves room for
    # several such values in one state, under Step Functions' 256 KiB.
    payloads_bucket: str | None = None
    payload_threshold_bytes: int = Field(default=32 * 1024, ge=1024, le=128 * 1024)

    # LLM providers by name (JSON: {"<provider>": {"type": "openai-compatible", "base_url", ...}
    # | {"type": "bedrock", "region"}}) and per-model prices ({"<provider>/<model>":
    # {"input_per_1k", "output_per_1k", "currency"}}); see signoff/providers/config.py.
    llm_providers: dict[str, LlmProviderConfig] = Field(default_factory=dict)
    model_prices: dict[str, ModelPrice] = Field(default_factory=dict)

    # Tenants, keys, tokens, limits (issue 6; the README's "Security" section).
    tenants_table: str | None = None
    rate_limits_table: str | None = None
    idempotency_table: str | None = None
    # The sha256 (hex) of the operator key, the one key that may create tenants.
    operator_key_hash: str | None = None
    # Where the HMAC secret that signs short-lived tokens lives: "secretsmanager:<secret id>".
    token_secret_ref: str | None = None
    token_default_ttl_seconds: int = Field(default=900, ge=30, le=3600)
    token_max_ttl_seconds: int = Field(default=3600, ge=60, le=86400)
    # A rotated key keeps working this long (POST /keys/{id}/rotate may ask for less or more).
    key_rotation_grace_seconds: int = Field(default=24 * 60 * 60, ge=0, le=7 * 24 * 60 * 60)
    # Request bodies larger than this answer 413 (API Gateway itself stops at 10 MB).
    max_request_bytes: int = Field(default=1024 * 1024, ge=1024, le=10 * 1024 * 1024)
    # Rate plans by name, added to or replacing the defaults (JSON: {"<plan>":
    # {"requests_per_minute", "burst"}}); a tenant without a plan gets `default_plan`.
    rate_limit_plans: dict[str, RatePlan] = Field(default_factory=dict)
    default_plan: str = "free"
    # How long an Idempotency-Key is remembered.
    idempotency_ttl_seconds: int = Field(default=24 * 60 * 60, ge=60, le=7 * 24 * 60 * 60)

    # Tools and retrievers (signoff/nodes/registry.py): {"<provider>/<tool>": {"lambda": ...} |
    # {"url": ...}} and {"<dataset id>": {"bedrock_knowledge_base_id": ...} | {"lambda": ...} |
    # {"url": ...}}.
    tools: dict[str, ToolTarget] = Field(default_factory=dict)
    retrievers: dict[str, RetrieverTarget] = Field(default_factory=dict)
    # Outbound requests (http-request, tool and retriever URLs, remote files) may reach loopback,
    # private and link-local addresses (signoff/net): off in production, on in the local cloud.
    allow_private_network: bool = False

    # Webhooks (signoff/webhooks; the README's "Webhooks" section): subscriptions, the log of
    # their deliveries and the queue deliveries wait in between attempts.
    webhooks_table: str | None = None
    webhook_deliveries_table: str | None = None
    webhook_deliveries_queue_url: str | None = None
    # Seconds before each retry: after failed attempt n the n-th delay (the last one repeats),
    # each at most SQS's 12 h. The deliveries queue's maxReceiveCount must be max_attempts.
    webhook_retry_delays: list[int] = Field(
        default_factory=lambda: [30, 300, 1800, 7200, 18000, 36000, 43200]
    )
    webhook_max_attempts: int = Field(default=8, ge=1, le=100)
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=30)
    # A rotated secret keeps signing (beside the new one) this long.
    webhook_secret_grace_seconds: int = Field(default=24 * 60 * 60, ge=0, le=7 * 24 * 60 * 60)
    # Payloads larger than this (bytes of JSON) have their largest values replaced by links.
    webhook_max_payload_bytes: int = Field(default=16 * 1024, ge=1024, le=200 * 1024)
    webhook_delivery_retention_days: int = Field(default=30, ge=1, le=365)
    # The API's public base URL, for links in webhook payloads (a relative path when unset).
    api_url: str | None = None

    # Agno's sessions (signoff/difyapi/sessions.py): the state runs of one session_id share.
    workflow_sessions_table: str | None = None

    # Secret environment variables (signoff/store/workflow_secrets.py): each value lives in
    # Secrets Manager as `<prefix>/<tenant hash>/<workflow id>/env/<name>`, set through
    # PUT /workflows/{id}/secrets/{name} and read by the node function, which keeps a value
    # this many seconds per warm container.
    workflow_secrets_prefix: str | None = None
    workflow_secrets_cache_seconds: int = Field(default=300, ge=0, le=3600)

    def require(self, field: str) -> str:
        """The value of a resource setting this function needs, or a clear configuration error."""
        value = getattr(self, field)
        if not value:
            raise ConfigurationError(
                f"setting {field} is missing: set SIGNOFF_{field.upper()} for this function"
            )
        return str(value)
