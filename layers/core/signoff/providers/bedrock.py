"""A chat model on Amazon Bedrock's Converse API (`bedrock-runtime` `converse`) through boto3.

Converse has no JSON mode: JSON output is asked for as a tool the model must call, whose input
schema is the wanted JSON's schema, and the call's input is the answer.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    ReadTimeoutError,
)

from signoff.providers.chat import ChatMessage, ChatResult, JsonOutput, ToolCall, ToolSpec
from signoff.providers.config import BedrockProvider
from signoff.providers.errors import (
    LlmAuthenticationFailed,
    LlmProviderError,
    LlmRateLimited,
    LlmRequestRejected,
    LlmTimeout,
)
from signoff.providers.usage import Usage

_INFERENCE_PARAMS = {
    "max_tokens": "maxTokens",
    "temperature": "temperature",
    "top_p": "topP",
    "stop": "stopSequences",
}
# Model-specific fields Converse passes through to the model (Anthropic and others read top_k).
_ADDITIONAL_PARAMS = ("top_k",)
_FINISH_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
}
_RATE_LIMITED = {"ThrottlingException", "TooManyRequestsException", "ServiceQuotaExceededException"}
_DENIED = {"AccessDeniedException", "UnrecognizedClientException", "ExpiredTokenException"}
_REJECTED = {"ValidationException", "ResourceNotFoundException"}
_TIMED_OUT = {"ModelTimeoutException"}


class BedrockChatModel:
    def __init__(self, config: BedrockProvider, *, provider: str, client: Any = None) -> None:
        self._config = config
        self._provider = provider
        self._bedrock = client
        self._lock = threading.Lock()

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
        request = converse_request(
            messages,
            model=model,
            params=params,
            json_output=json_output,
            tools=tools,
            tool_choice=tool_choice,
        )
        try:
            response = self._client().converse(**request)
        except ClientError as error:
            raise self._error_for(error) from error
        except (ReadTimeoutError, ConnectTimeoutError) as error:
            raise LlmTimeout(
                f"{self._provider} did not answer within {self._config.timeout_seconds:g} s",
                provider=self._provider,
            ) from error
        except BotoCoreError as error:
            raise LlmProviderError(
                f"{self._provider} could not be reached: {error}", provider=self._provider
            ) from error
        return result_from_converse(response, json_output=json_output, model=model)

    def _client(self) -> Any:
        with self._lock:
            if self._bedrock is None:
                self._bedrock = boto3.client(
                    "bedrock-runtime",
                    region_name=self._config.region,
                    config=Config(
                        read_timeout=self._config.timeout_seconds,
                        connect_timeout=10,
                        retries={"mode": "standard"},
                    ),
                )
            return self._bedrock

    def _error_for(self, error: ClientError) -> LlmProviderError:
        details = error.response.get("Error", {})
        code = details.get("Code", "")
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        message = f"{self._provider} answered {code}: {details.get('Message', '')}"
        if code in _RATE_LIMITED:
            return LlmRateLimited(message, provider=self._provider, code=code)
        kind = (
            LlmTimeout
            if code in _TIMED_OUT
            else LlmAuthenticationFailed
            if code in _DENIED
            else LlmRequestRejected
            if code in _REJECTED
            else LlmProviderError
        )
        return kind(message, provider=self._provider, status=status, code=code)


def converse_request(
    messages: Sequence[ChatMessage],
    *,
    model: str,
    params: Mapping[str, Any] | None,
    json_output: JsonOutput | None,
    tools: Sequence[ToolSpec],
    tool_choice: str | None,
) -> dict[str, Any]:
    """The `converse` arguments for one call."""
    params = params or {}
    request: dict[str, Any] = {"modelId": model, "messages": _conversation(messages)}
    system = [
        {"text": message.content}
        for message in messages
        if message.role == "system" and message.content.strip()
    ]
    if system:
        request["system"] = system
    inference = {
        converse_name: params[name]
        for name, converse_name in _INFERENCE_PARAMS.items()
        if params.get(name) is not None
    }
    if isinstance(inference.get("stopSequences"), str):
        inference["stopSequences"] = [inference["stopSequences"]]
    if inference:
        request["inferenceConfig"] = inference
    additional = {name: params[name] for name in _ADDITIONAL_PARAMS if params.get(name) is not None}
    if additional:
        request["additionalModelRequestFields"] = additional

    specs = [_tool_spec(tool.name, tool.description, tool.parameters) for tool in tools]
    forced = tool_choice
    if json_output is not None:
        schema = json_output.schema or {"type": "object"}
        specs.append(_tool_spec(json_output.name, "Answer with this JSON object.", schema))
        forced = json_output.name
    if specs:
        choice = {"tool": {"name": forced}} if forced else {"auto": {}}
        request["toolConfig"] = {"tools": specs, "toolChoice": choice}
    return request


def result_from_converse(
    response: Mapping[str, Any], *, json_output: JsonOutput | None, model: str
) -> ChatResult:
    blocks = response.get("output", {}).get("message", {}).get("content") or []
    text = "".join(block["text"] for block in blocks if "text" in block)
    answer: Any = None
    calls: list[ToolCall] = []
    for block in blocks:
        use = block.get("toolUse")
        if not use:
            continue
        if json_output is not None and use.get("name") == json_output.name:
            answer = use.get("input")
            continue
        calls.append(
            ToolCall(
                id=use.get("toolUseId", ""),
                name=use.get("name", ""),
                arguments_text=json.dumps(use.get("input") or {}),
            )
        )
    usage = response.get("usage") or {}
    stop_reason = response.get("stopReason")
    return ChatResult(
        text=text,
        usage=Usage(
            prompt_tokens=int(usage.get("inputTokens") or 0),
            completion_tokens=int(usage.get("outputTokens") or 0),
        ),
        tool_calls=tuple(calls),
        json=answer,
        finish_reason=_FINISH_REASONS.get(stop_reason, stop_reason),
        model=model,
    )


def _conversation(messages: Sequence[ChatMessage]) -> list[dict[str, Any]]:
    # Converse wants user and assistant turns alternating: consecutive turns of one role merge
    # into one turn of several text blocks.
    # Converse refuses blank text blocks.
    turns: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "system" or not message.content.strip():
            continue
        if turns and turns[-1]["role"] == message.role:
            turns[-1]["content"].append({"text": message.content})
        else:
            turns.append({"role": message.role, "content": [{"text": message.content}]})
    return turns


def _tool_spec(name: str, description: str, schema: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "toolSpec": {
            "name": name,
            "description": description or name,
            "inputSchema": {"json": dict(schema)},
        }
    }
