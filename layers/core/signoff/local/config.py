"""Configuration of the local cloud itself (not of the functions it runs)."""

from __future__ import annotations

import json
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from signoff.nodes.registry import RetrieverTarget, ToolTarget


class LocalCloudSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SIGNOFF_", extra="ignore", frozen=True)

    # The admin key of the default tenant; a fresh one is generated when unset.
    dev_key: str | None = None
    dev_tenant: str = "default"
    host: str = "127.0.0.1"
    # The HTTP API (the front) and the local AWS endpoint (moto); 0 picks a free port.
    port: int = Field(default=8080, ge=0, le=65535)
    aws_port: int = Field(default=8081, ge=0, le=65535)
    # The tools and retrievers the node function gets (template parameters Tools, Retrievers);
    # the local cloud serves on loopback, so outbound requests may reach private addresses.
    tools: dict[str, ToolTarget] = Field(default_factory=dict)
    retrievers: dict[str, RetrieverTarget] = Field(default_factory=dict)
    allow_private_network: bool = True
    # Any other template parameters, as JSON ({"LogEvents": "true"}); they win over the above.
    stack_parameters: dict[str, str] = Field(default_factory=dict)

    def integration_parameters(
        self,
        local_tools: dict[str, Any] | None = None,
        local_retrievers: dict[str, Any] | None = None,
    ) -> dict[str, str]:
        """template.yaml's parameters for tools, retrievers and the address guard: the local
        cloud's own (fake_integrations), then these settings' (which win on a shared name)."""

        def registry(local: dict[str, Any] | None, configured: dict[str, Any]) -> str:
            entries = dict(local or {})
            entries.update(
                {name: target.model_dump(by_alias=True) for name, target in configured.items()}
            )
            return json.dumps(entries)

        return {
            "Tools": registry(local_tools, self.tools),
            "Retrievers": registry(local_retrievers, self.retrievers),
            "AllowPrivateNetwork": "true" if self.allow_private_network else "false",
        }
