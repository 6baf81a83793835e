"""The deployment's LLM configuration: providers (SIGNOFF_LLM_PROVIDERS) and per-model prices
(SIGNOFF_MODEL_PRICES), as Settings parses them.

A provider holds no secret: an API key is named by reference (`secretsmanager:<secret id>` or
`ssm:<parameter name>`) and fetched at run time.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

CREDENTIAL_SCHEMES = ("secretsmanager", "ssm")


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OpenAICompatibleProvider(_Config):
    """Any endpoint speaking OpenAI's chat completions API (`POST {base_url}/chat/completions`)."""

    type: Literal["openai-compatible"] = "openai-compatible"
    base_url: str = Field(pattern=r"^https?://\S+$")
    api_key_ref: str | None = None
    timeout_seconds: float = Field(default=120.0, gt=0, le=900)
    # Ask for server-sent chunks and assemble them: long generations keep the connection busy
    # instead of idling until a proxy's read timeout.
    stream: bool = False

    @field_validator("base_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("api_key_ref")
    @classmethod
    def _is_a_reference(cls, value: str | None) -> str | None:
        if value is None:
            return None
        scheme, _, name = value.partition(":")
        if scheme not in CREDENTIAL_SCHEMES or not name:
            raise ValueError(
                "api_key_ref must be 'secretsmanager:<secret id>' or 'ssm:<parameter name>'"
            )
        return value


class BedrockProvider(_Config):
    """Amazon Bedrock's Converse API; credentials are the function's own role."""

    type: Literal["bedrock"]
    region: str | None = None
    timeout_seconds: float = Field(default=120.0, gt=0, le=900)


LlmProviderConfig = Annotated[
    OpenAICompatibleProvider | BedrockProvider, Field(discriminator="type")
]


class ModelPrice(_Config):
    """What one model costs, per 1,000 tokens, keyed `<provider>/<model>` in the settings."""

    input_per_1k: Decimal = Field(ge=0)
    output_per_1k: Decimal = Field(ge=0)
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
