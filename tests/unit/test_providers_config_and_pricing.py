"""Provider configuration from the environment, usage pricing, and the registry that hands a node
the chat model of the provider it names."""

from __future__ import annotations

import json
from decimal import Decimal

import boto3
import httpx
import pytest
from botocore.stub import Stubber
from pydantic import ValidationError

from signoff.providers.chat import ChatMessage
from signoff.providers.config import BedrockProvider, ModelPrice, OpenAICompatibleProvider
from signoff.providers.credentials import CredentialResolver
from signoff.providers.errors import LlmCredentialsUnavailable, LlmProviderNotConfigured
from signoff.providers.registry import ChatModels
from signoff.providers.usage import Usage
from signoff.settings import Settings

GPT_PRICE = ModelPrice(input_per_1k=Decimal("0.15"), output_per_1k=Decimal("0.6"))


def test_given_json_in_the_environment_when_settings_load_then_providers_and_prices_are_typed(
    monkeypatch,
):
    monkeypatch.setenv(
        "SIGNOFF_LLM_PROVIDERS",
        json.dumps(
            {
                "openai": {
                    "type": "openai-compatible",
                    "base_url": "https://api.openai.com/v1/",
                    "api_key_ref": "secretsmanager:signoff/openai",
                    "stream": True,
                },
                "aws": {"type": "bedrock", "region": "us-west-2"},
            }
        ),
    )
    monkeypatch.setenv(
        "SIGNOFF_MODEL_PRICES",
        json.dumps({"openai/gpt-4o-mini": {"input_per_1k": "0.15", "output_per_1k": 0.6}}),
    )

    settings = Settings()

    openai = settings.llm_providers["openai"]
    assert isinstance(openai, OpenAICompatibleProvider)
    assert openai.base_url == "https://api.openai.com/v1"
    assert openai.api_key_ref == "secretsmanager:signoff/openai"
    assert openai.stream is True
    assert settings.llm_providers["aws"] == BedrockProvider(type="bedrock", region="us-west-2")
    price = settings.model_prices["openai/gpt-4o-mini"]
    assert (price.input_per_1k, price.output_per_1k, price.currency) == (
        Decimal("0.15"),
        Decimal("0.6"),
        "USD",
    )


def test_given_nothing_configured_when_settings_load_then_there_are_no_providers(monkeypatch):
    monkeypatch.delenv("SIGNOFF_LLM_PROVIDERS", raising=False)
    monkeypatch.delenv("SIGNOFF_MODEL_PRICES", raising=False)

    settings = Settings()

    assert settings.llm_providers == {}
    assert settings.model_prices == {}


@pytest.mark.parametrize(
    "reference", ["sk-live-123", "secretsmanager:", "vault:signoff/key", "ssm"]
)
def test_given_a_key_that_is_not_a_reference_when_configured_then_it_is_refused(reference):
    with pytest.raises(ValidationError, match="api_key_ref must be"):
        OpenAICompatibleProvider(base_url="https://x.example/v1", api_key_ref=reference)


def test_given_an_unknown_provider_type_when_settings_load_then_it_is_refused(monkeypatch):
    monkeypatch.setenv("SIGNOFF_LLM_PROVIDERS", json.dumps({"x": {"type": "azure"}}))

    with pytest.raises(ValidationError):
        Settings()


def test_given_a_price_when_usage_is_priced_then_it_costs_tokens_times_the_rate_per_1k():
    usage = Usage(prompt_tokens=1200, completion_tokens=300)

    priced = usage.priced(ModelPrice(input_per_1k="0.5", output_per_1k="1.5", currency="EUR"))

    assert priced.total_price == Decimal("1.05")  # 1.2 * 0.5 + 0.3 * 1.5
    assert priced.as_dict() == {
        "prompt_tokens": 1200,
        "completion_tokens": 300,
        "total_tokens": 1500,
        "total_price": 1.05,
        "currency": "EUR",
    }


def test_given_no_price_when_usage_is_priced_then_it_is_free_in_usd():
    priced = Usage(prompt_tokens=10, completion_tokens=5).priced(None)

    assert priced.as_dict()["total_price"] == 0.0
    assert priced.currency == "USD"


def test_given_two_calls_when_their_usage_is_added_then_tokens_and_prices_sum():
    first = Usage(1, 2, Decimal("0.1"), "EUR")
    second = Usage(3, 4, Decimal("0.2"), "EUR")

    total = first + second

    assert (total.prompt_tokens, total.completion_tokens, total.total_tokens) == (4, 6, 10)
    assert total.total_price == Decimal("0.3")
    assert total.currency == "EUR"


def fixed_answer(request: httpx.Request) -> httpx.Response:
    return httpx.Response(
        200,
        json={
            "choices": [{"index": 0, "message": {"content": "hi"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 2000, "completion_tokens": 1000},
        },
    )


def registry(**providers) -> ChatModels:
    return ChatModels(
        providers or {"openai": OpenAICompatibleProvider(base_url="https://x.example/v1")},
        {"openai/gpt-4o-mini": GPT_PRICE},
        http=httpx.Client(transport=httpx.MockTransport(fixed_answer)),
    )


def test_given_a_priced_model_when_a_node_chats_then_its_usage_carries_the_price():
    result = registry().get("openai").chat([ChatMessage("user", "hi")], model="gpt-4o-mini")

    assert result.usage.total_price == Decimal("0.9")  # 2 * 0.15 + 1 * 0.6
    assert result.usage.total_tokens == 3000


def test_given_an_unpriced_model_when_a_node_chats_then_it_counts_as_free():
    result = registry().get("openai").chat([ChatMessage("user", "hi")], model="gpt-4o")

    assert result.usage.total_price == 0
    assert result.usage.total_tokens == 3000


def test_given_a_dify_plugin_provider_id_when_looked_up_then_its_last_part_is_the_provider():
    models = registry()

    assert models.provider_name("langgenius/openai/openai") == "openai"
    assert models.price("langgenius/openai/openai", "gpt-4o-mini") == GPT_PRICE
    assert models.get("langgenius/openai/openai") is models.get("openai")


def test_given_an_unconfigured_provider_when_looked_up_then_the_error_names_the_configured_ones():
    with pytest.raises(LlmProviderNotConfigured, match=r"'anthropic'.*configured: openai"):
        registry().get("anthropic")


def test_given_a_bedrock_provider_when_a_node_chats_then_converse_answers_and_is_priced():
    client = boto3.client(
        "bedrock-runtime",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    models = ChatModels(
        {"aws": BedrockProvider(type="bedrock", region="us-east-1")},
        {"aws/amazon.nova-lite-v1:0": ModelPrice(input_per_1k="0.06", output_per_1k="0.24")},
        bedrock_client=client,
    )
    with Stubber(client) as stubber:
        stubber.add_response(
            "converse",
            {
                "output": {"message": {"role": "assistant", "content": [{"text": "hi"}]}},
                "stopReason": "end_turn",
                "usage": {"inputTokens": 1000, "outputTokens": 500, "totalTokens": 1500},
                "metrics": {"latencyMs": 1},
            },
        )

        result = models.get("aws").chat([ChatMessage("user", "hi")], model="amazon.nova-lite-v1:0")

    assert result.text == "hi"
    assert result.usage.total_price == Decimal("0.18")  # 1 * 0.06 + 0.5 * 0.24


@pytest.mark.parametrize("reference", ["vault:signoff/key", "secretsmanager:", "sk-live-123"])
def test_given_something_that_is_not_a_reference_when_resolved_then_no_aws_call_is_made(reference):
    def no_client(service: str):
        raise AssertionError(f"no {service} client should be made")

    with pytest.raises(LlmCredentialsUnavailable, match="not a credential reference"):
        CredentialResolver(client_factory=no_client).resolve(reference)
