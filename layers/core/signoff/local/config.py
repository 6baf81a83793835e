"""Configuration of the local cloud itself (not of the functions it runs)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class LocalCloudSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SIGNOFF_", extra="ignore", frozen=True)

    # The admin key of the default tenant; a fresh one is generated when unset.
    dev_key: str | None = None
    dev_tenant: str = "default"
    host: str = "127.0.0.1"
    # The HTTP API (the front) and the local AWS endpoint (moto); 0 picks a free port.
    port: int = Field(default=8080, ge=0, le=65535)
    aws_port: int = Field(default=8081, ge=0, le=65535)
