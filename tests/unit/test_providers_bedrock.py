"""The Bedrock chat model against botocore's Stubber: the Converse request it makes, how it reads
the answer (text, tool use, JSON through a forced tool, usage), and its typed errors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from signoff.providers.bedrock import BedrockChatModel
from signoff.providers.chat import ChatMessage, JsonOutput, ToolSpec
from signoff.providers.config import BedrockProvider
from signoff.providers.errors import (
    LlmAuthenticationFailed,
    LlmProviderError,
    LlmRateLimited,
    LlmRequestRejected,
    LlmTimeout,
)

MODEL_ID = "anthropic.claude-3-haiku-20240307-v1:0"
USAGE = {"inputTokens": 12, "outputTokens": 5, "totalTokens": 17}
METRICS = {"latencyMs": 120}


@pytest.fixture
def bedrock() -> Iterator[tuple[BedrockChatModel, Stubber]]:
    client = boto3.client(
        "bedrock-runtime",
        region_name="eu-west-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    with Stubber(client) as stubber:
        model = BedrockChatModel(
            BedrockProvider(type="bedrock", region="eu-west-1"), provider="aws", client=client
        )
        yield model, stubber
        stubber.assert_no_pending_responses()


def answer(*content: dict[str, Any], stop: str = "end_turn") -> dict[str, Any]:
    return {
        "output": {"message": {"role": "assistant", "content": list(content)}},
        "stopReason": stop,
        "usage": USAGE,
        "metrics": METRICS,
    }


def test_given_a_conversation_when_called_then_converse_gets_system_turns_and_inference_config(
    bedrock,
):
    model, stubber = bedrock
    stubber.add_response(
        "converse",
        answer({"text": "Bonjour"}),
        {
            "modelId": MODEL_ID,
            "system": [{"text": "Translate to French."}],
            "messages": [
                {"role": "user", "content": [{"text": "Hello"}, {"text": "(politely)"}]},
                {"role": "assistant", "content": [{"text": "Salut"}]},
                {"role": "user", "content": [{"text": "More formal."}]},
            ],
            "inferenceConfig": {
                "maxTokens": 100,
                "temperature": 0.3,
                "topP": 0.9,
                "stopSequences": ["END"],
            },
            "additionalModelRequestFields": {"top_k": 40},
        },
    )

    result = model.chat(
        [
            ChatMessage("system", "Translate to French."),
            ChatMessage("user", "Hello"),
            ChatMessage("user", "(politely)"),
            ChatMessage("assistant", "Salut"),
            ChatMessage("user", "   "),
            ChatMessage("user", "More formal."),
        ],
        model=MODEL_ID,
        params={
            "max_tokens": 100,
            "temperature": 0.3,
            "top_p": 0.9,
            "stop": "END",
            "top_k": 40,
            "presence_penalty": 1,
        },
    )

    assert result.text == "Bonjour"
    assert result.finish_reason == "stop"
    assert (result.usage.prompt_tokens, result.usage.completion_tokens) == (12, 5)
    assert result.tool_calls == ()


def test_given_json_output_when_called_then_a_forced_tool_carries_the_schema_and_the_answer(
    bedrock,
):
    model, stubber = bedrock
    schema = {"type": "object", "properties": {"category_name": {"type": "string"}}}
    stubber.add_response(
        "converse",
        answer(
            {
                "toolUse": {
                    "toolUseId": "t1",
                    "name": "classification",
                    "input": {"category_name": "Refund"},
                }
            },
            stop="tool_use",
        ),
        {
            "modelId": MODEL_ID,
            "messages": [{"role": "user", "content": [{"text": "I want my money back"}]}],
            "toolConfig": {
                "tools": [
                    {
                        "toolSpec": {
                            "name": "classification",
                            "description": "Answer with this JSON object.",
                            "inputSchema": {"json": schema},
                        }
                    }
                ],
                "toolChoice": {"tool": {"name": "classification"}},
            },
        },
    )

    result = model.chat(
        [ChatMessage("user", "I want my money back")],
        model=MODEL_ID,
        json_output=JsonOutput("classification", schema),
    )

    assert result.json == {"category_name": "Refund"}
    assert result.tool_calls == ()  # the JSON answer is not a tool call of the caller's
    assert result.finish_reason == "tool_calls"


def test_given_tools_when_called_then_tool_use_blocks_are_tool_calls(bedrock):
    model, stubber = bedrock
    tool = ToolSpec("extract", "Extract the city.", {"type": "object", "properties": {}})
    stubber.add_response(
        "converse",
        answer(
            {"text": "Let me extract that."},
            {"toolUse": {"toolUseId": "t7", "name": "extract", "input": {"city": "Paris"}}},
            stop="tool_use",
        ),
        {
            "modelId": MODEL_ID,
            "messages": [{"role": "user", "content": [{"text": "city=Paris"}]}],
            "toolConfig": {
                "tools": [
                    {
                        "toolSpec": {
                            "name": "extract",
                            "description": "Extract the city.",
                            "inputSchema": {"json": {"type": "object", "properties": {}}},
                        }
                    }
                ],
                "toolChoice": {"auto": {}},
            },
        },
    )

    result = model.chat([ChatMessage("user", "city=Paris")], model=MODEL_ID, tools=[tool])

    assert result.text == "Let me extract that."
    [call] = result.tool_calls
    assert (call.id, call.name, call.arguments) == ("t7", "extract", {"city": "Paris"})


@pytest.mark.parametrize(
    ("code", "status", "error_type"),
    [
        ("ThrottlingException", 429, LlmRateLimited),
        ("ModelTimeoutException", 408, LlmTimeout),
        ("AccessDeniedException", 403, LlmAuthenticationFailed),
        ("ValidationException", 400, LlmRequestRejected),
        ("ResourceNotFoundException", 404, LlmRequestRejected),
        ("ServiceUnavailableException", 503, LlmProviderError),
        ("InternalServerException", 500, LlmProviderError),
    ],
)
def test_given_a_bedrock_error_when_called_then_it_becomes_its_typed_error(
    bedrock, code, status, error_type
):
    model, stubber = bedrock
    stubber.add_client_error(
        "converse",
        service_error_code=code,
        service_message="it went wrong",
        http_status_code=status,
    )

    with pytest.raises(error_type) as raised:
        model.chat([ChatMessage("user", "hi")], model=MODEL_ID)

    assert type(raised.value) is error_type
    assert f"aws answered {code}: it went wrong" in str(raised.value)
    assert raised.value.details["code"] == code
