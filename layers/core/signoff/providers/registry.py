"""The deployment's chat models by provider name, made on first use and kept for the process
(one cold start), their usage priced from the configured model prices."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import httpx

from signoff.providers.bedrock import BedrockChatModel
from signoff.providers.chat import ChatMessage, ChatModel, ChatResult, JsonOutput, ToolSpec
from signoff.providers.config import (
    BedrockProvider,
    LlmProviderConfig,
    ModelPrice,
    OpenAICompatibleProvider,
)
from signoff.providers.credentials import CredentialResolver
from signoff.providers.errors import LlmProviderNotConfigured
from signoff.providers.openai_compatible import OpenAICompatibleChatModel

if TYPE_CHECKING:
    from signoff.settings import Settings


class ChatModels:
    def __init__(
        self,
        providers: Mapping[str, LlmProviderConfig],
        prices: Mapping[str, ModelPrice] | None = None,
        *,
        credentials: CredentialResolver | None = None,
        http: httpx.Client | None = None,
        bedrock_client: Any = None,
    ) -> None:
        self._providers = dict(providers)
        self._prices = dict(prices or {})
        self._credentials = credentials or CredentialResolver()
        self._http = http
        self._bedrock_client = bedrock_client
        self._models: dict[str, ChatModel] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> ChatModels:
        return cls(settings.llm_providers, settings.model_prices)

    def provider_name(self, provider: str) -> str:
        """The configured provider a node's `model.provider` means. Dify exports name plugin
        providers `<org>/<plugin>/<provider>` (langgenius/openai/openai): when that exact name
        is not configured, its last part is looked up."""
        if provider in self._providers:
            return provider
        short = provider.rsplit("/", 1)[-1]
        if short in self._providers:
            return short
        configured = ", ".join(sorted(self._providers)) or "none"
        raise LlmProviderNotConfigured(
            f"LLM provider {provider!r} is not configured for this deployment "
            f"(configured: {configured}; see SIGNOFF_LLM_PROVIDERS)"
        )

    def price(self, provider: str, model: str) -> ModelPrice | None:
        return self._prices.get(f"{self.provider_name(provider)}/{model}")

    def get(self, provider: str) -> ChatModel:
        """The chat model of a provider; its results' usage carries the configured price."""
        name = self.provider_name(provider)
        with self._lock:
            model = self._models.get(name)
            if model is None:
                model = self._models[name] = _Priced(self._make(name), self, name)
        return model

    def _make(self, name: str) -> ChatModel:
        config = self._providers[name]
        if isinstance(config, BedrockProvider):
            return BedrockChatModel(config, provider=name, client=self._bedrock_client)
        assert isinstance(config, OpenAICompatibleProvider)
        reference = config.api_key_ref

        def api_key() -> str | None:
            return self._credentials.resolve(reference) if reference else None

        return OpenAICompatibleChatModel(config, provider=name, api_key=api_key, http=self._http)


class _Priced:
    def __init__(self, model: ChatModel, models: ChatModels, provider: str) -> None:
        self._model = model
        self._models = models
        self._provider = provider

    def chat(
        self,
        messages: Sequence[ChatMessage],
        *,
        model: str,
        params: Mapping[str, Any] | None = None,
        json_output: JsonOutput | None = None,
        tools: Sequence[ToolSpec] = (),
        tool_choice: str | None = None,
    ) -> ChatResult:
        result = self._model.chat(
            messages,
            model=model,
            params=params,
            json_output=json_output,
            tools=tools,
            tool_choice=tool_choice,
        )
        price = self._models.price(self._provider, model)
        return dataclasses.replace(result, usage=result.usage.priced(price))
