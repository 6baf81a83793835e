"""A chat model behind any OpenAI-compatible endpoint: `POST {base_url}/chat/completions` over
httpx, with a bearer key; plain answers or server-sent chunks assembled into one answer; JSON
output through `response_format`, and tool calls."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import httpx

from signoff.providers.chat import (
    ChatMessage,
    ChatResult,
    JsonOutput,
    ToolCall,
    ToolSpec,
    json_from_text,
)
from signoff.providers.config import OpenAICompatibleProvider
from signoff.providers.errors import (
    LlmAuthenticationFailed,
    LlmProviderError,
    LlmRateLimited,
    LlmRequestRejected,
    LlmTimeout,
)
from signoff.providers.usage import Usage

# Dify's completion_params that mean the same to every OpenAI-compatible server; anything else
# (Dify UI settings, another vendor's knobs) is left out rather than risk a 400.
_PASSED_PARAMS = (
    "temperature",
    "top_p",
    "max_tokens",
    "max_completion_tokens",
    "presence_penalty",
    "frequency_penalty",
    "stop",
    "seed",
)
_ERROR_BODY_CHARACTERS = 500


class OpenAICompatibleChatModel:
    def __init__(
        self,
        config: OpenAICompatibleProvider,
        *,
        provider: str,
        api_key: Callable[[], str | None] = lambda: None,
        http: httpx.Client | None = None,
    ) -> None:
        self._config = config
        self._provider = provider
        self._api_key = api_key
        self._http = http
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
        body = request_body(
            messages,
            model=model,
            params=params,
            json_output=json_output,
            tools=tools,
            tool_choice=tool_choice,
            stream=self._config.stream,
        )
        url = f"{self._config.base_url}/chat/completions"
        headers = {"Content-Type": "application/json"}
        key = self._api_key()
        if key:
            headers["Authorization"] = f"Bearer {key}"
        try:
            if self._config.stream:
                headers["Accept"] = "text/event-stream"
                with self._client().stream("POST", url, json=body, headers=headers) as response:
                    if response.status_code >= 400:
                        response.read()
                        raise self._error_for(response)
                    answer = assemble_stream(response.iter_lines(), provider=self._provider)
            else:
                response = self._client().post(url, json=body, headers=headers)
                if response.status_code >= 400:
                    raise self._error_for(response)
                answer = _json_body(response, self._provider)
        except httpx.TimeoutException as error:
            raise LlmTimeout(
                f"{self._provider} did not answer within {self._config.timeout_seconds:g} s",
                provider=self._provider,
            ) from error
        except httpx.HTTPError as error:
            raise LlmProviderError(
                f"{self._provider} could not be reached: {type(error).__name__}: {error}",
                provider=self._provider,
            ) from error
        return result_from_completion(answer, json_output=json_output, provider=self._provider)

    def _client(self) -> httpx.Client:
        with self._lock:
            if self._http is None:
                self._http = httpx.Client(timeout=self._config.timeout_seconds)
            return self._http

    def _error_for(self, response: httpx.Response) -> LlmProviderError:
        status = response.status_code
        detail = _error_message(response)
        message = f"{self._provider} answered HTTP {status}: {detail}"
        if status == 429:
            return LlmRateLimited(
                message, provider=self._provider, retry_after=_retry_after(response)
            )
        if status in (401, 403):
            return LlmAuthenticationFailed(message, provider=self._provider, status=status)
        if status in (408, 504):
            return LlmTimeout(message, provider=self._provider, status=status)
        if 400 <= status < 500 and status != 409:
            return LlmRequestRejected(message, provider=self._provider, status=status)
        return LlmProviderError(message, provider=self._provider, status=status)


def request_body(
    messages: Sequence[ChatMessage],
    *,
    model: str,
    params: Mapping[str, Any] | None,
    json_output: JsonOutput | None,
    tools: Sequence[ToolSpec],
    tool_choice: str | None,
    stream: bool,
) -> dict[str, Any]:
    """The chat completions request for one call."""
    body: dict[str, Any] = {
        "model": model,
        "messages": [{"role": message.role, "content": message.content} for message in messages],
    }
    for name in _PASSED_PARAMS:
        if params and params.get(name) is not None:
            body[name] = params[name]
    if json_output is not None:
        if json_output.schema is None:
            body["response_format"] = {"type": "json_object"}
        else:
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {
                    "name": json_output.name,
                    "schema": dict(json_output.schema),
                    "strict": False,
                },
            }
    if tools:
        body["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": tool.name,
                    "description": tool.description,
                    "parameters": dict(tool.parameters),
                },
            }
            for tool in tools
        ]
        body["tool_choice"] = (
            {"type": "function", "function": {"name": tool_choice}} if tool_choice else "auto"
        )
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    return body


def assemble_stream(lines: Iterable[str], *, provider: str) -> dict[str, Any]:
    """The server-sent chunks of a streamed completion, assembled into the shape of a plain
    completion (one choice: its message's content and tool calls, finish reason, usage)."""
    content: list[str] = []
    calls: dict[int, dict[str, Any]] = {}
    finish_reason: str | None = None
    usage: dict[str, Any] | None = None
    model = ""
    for line in lines:
        if not line.startswith("data:"):
            continue  # blank separators, comments (`: ping`), event names
        data = line[len("data:") :].strip()
        if data == "[DONE]":
            break
        try:
            chunk = json.loads(data)
        except ValueError as error:
            raise LlmProviderError(
                f"{provider} streamed a chunk that is not JSON: {data[:200]}", provider=provider
            ) from error
        if not isinstance(chunk, dict):
            continue
        if chunk.get("error"):
            raise LlmProviderError(
                f"{provider} failed mid-stream: {_describe_error(chunk['error'])}",
                provider=provider,
            )
        model = chunk.get("model") or model
        if chunk.get("usage"):
            usage = chunk["usage"]
        for choice in chunk.get("choices") or []:
            if choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta") or {}
            if delta.get("content"):
                content.append(delta["content"])
            for call in delta.get("tool_calls") or []:
                slot = calls.setdefault(
                    call.get("index", 0), {"id": "", "name": "", "arguments": []}
                )
                slot["id"] = call.get("id") or slot["id"]
                function = call.get("function") or {}
                slot["name"] = function.get("name") or slot["name"]
                if function.get("arguments"):
                    slot["arguments"].append(function["arguments"])
            finish_reason = choice.get("finish_reason") or finish_reason
    message: dict[str, Any] = {"role": "assistant", "content": "".join(content)}
    if calls:
        message["tool_calls"] = [
            {
                "id": slot["id"],
                "type": "function",
                "function": {"name": slot["name"], "arguments": "".join(slot["arguments"])},
            }
            for _, slot in sorted(calls.items())
        ]
    return {
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
        "usage": usage,
    }


def result_from_completion(
    answer: Mapping[str, Any], *, json_output: JsonOutput | None, provider: str
) -> ChatResult:
    choices = answer.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise LlmProviderError(f"{provider} answered without a choice", provider=provider)
    choice = choices[0]
    message = choice.get("message") or {}
    text = message.get("content") or ""
    if not isinstance(text, str):
        # Some servers answer content parts: keep their text.
        text = "".join(part.get("text", "") for part in text if isinstance(part, dict))
    tool_calls = tuple(
        ToolCall(
            id=call.get("id") or "",
            name=(call.get("function") or {}).get("name") or "",
            arguments_text=(call.get("function") or {}).get("arguments") or "",
        )
        for call in message.get("tool_calls") or []
        if isinstance(call, dict)
    )
    usage = answer.get("usage") or {}
    return ChatResult(
        text=text,
        usage=Usage(
            prompt_tokens=int(usage.get("prompt_tokens") or 0),
            completion_tokens=int(usage.get("completion_tokens") or 0),
        ),
        tool_calls=tool_calls,
        json=json_from_text(text) if json_output is not None and text else None,
        finish_reason=choice.get("finish_reason"),
        model=answer.get("model") or "",
    )


def _json_body(response: httpx.Response, provider: str) -> dict[str, Any]:
    try:
        answer = response.json()
    except ValueError as error:
        raise LlmProviderError(
            f"{provider} answered something other than JSON: {response.text[:200]}",
            provider=provider,
            status=response.status_code,
        ) from error
    if not isinstance(answer, dict):
        raise LlmProviderError(
            f"{provider} answered a JSON {type(answer).__name__}", provider=provider
        )
    return answer


def _error_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:_ERROR_BODY_CHARACTERS] or response.reason_phrase
    if isinstance(body, dict) and body.get("error"):
        return _describe_error(body["error"])
    return json.dumps(body)[:_ERROR_BODY_CHARACTERS]


def _describe_error(error: Any) -> str:
    if isinstance(error, dict):
        return str(error.get("message") or error.get("type") or error)[:_ERROR_BODY_CHARACTERS]
    return str(error)[:_ERROR_BODY_CHARACTERS]


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None  # an HTTP date: rare from model APIs, and the node's retry interval rules
