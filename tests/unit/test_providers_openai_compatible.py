"""The OpenAI-compatible chat model against httpx's MockTransport: what it sends, how it reads
plain and streamed answers, and which typed error each failure becomes."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from signoff.providers.chat import ChatMessage, JsonOutput, ToolSpec
from signoff.providers.config import OpenAICompatibleProvider
from signoff.providers.errors import (
    LlmAuthenticationFailed,
    LlmProviderError,
    LlmRateLimited,
    LlmRequestRejected,
    LlmTimeout,
)
from signoff.providers.openai_compatible import OpenAICompatibleChatModel

BASE_URL = "https://llm.example.com/v1"
MESSAGES = [ChatMessage("system", "Be brief."), ChatMessage("user", "Hello there")]
EXTRACT = ToolSpec(
    "extract",
    "Extract the city.",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)


class Recorder:
    """A MockTransport handler answering with `answer(request)`, keeping every request."""

    def __init__(self, answer: Callable[[httpx.Request], httpx.Response]) -> None:
        self.answer = answer
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.answer(request)

    @property
    def body(self) -> dict[str, Any]:
        return json.loads(self.requests[-1].content)


def completion(message: dict[str, Any], *, finish: str = "stop", usage=(7, 3)) -> dict:
    return {
        "id": "chatcmpl-1",
        "model": "gpt-test",
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": {
            "prompt_tokens": usage[0],
            "completion_tokens": usage[1],
            "total_tokens": sum(usage),
        },
    }


def sse(*chunks: dict[str, Any] | str) -> bytes:
    """A server-sent event stream: each chunk a `data:` event; a text starting with `:` is sent
    as the comment line it is."""

    def event(chunk: dict[str, Any] | str) -> str:
        if isinstance(chunk, str):
            return f"{chunk}\n\n" if chunk.startswith(":") else f"data: {chunk}\n\n"
        return f"data: {json.dumps(chunk)}\n\n"

    return "".join(event(chunk) for chunk in chunks).encode()


def model_with(
    answer: Callable[[httpx.Request], httpx.Response], *, stream: bool = False, key: str = "sk-1"
) -> tuple[OpenAICompatibleChatModel, Recorder]:
    recorder = Recorder(answer)
    config = OpenAICompatibleProvider(base_url=f"{BASE_URL}/", stream=stream, timeout_seconds=5)
    model = OpenAICompatibleChatModel(
        config,
        provider="acme",
        api_key=lambda: key,
        http=httpx.Client(transport=httpx.MockTransport(recorder)),
    )
    return model, recorder


def test_given_a_plain_chat_when_called_then_it_posts_the_messages_with_the_bearer_key():
    model, recorder = model_with(
        lambda _: httpx.Response(200, json=completion({"role": "assistant", "content": "Hi!"}))
    )

    result = model.chat(
        MESSAGES,
        model="gpt-test",
        params={"temperature": 0.2, "max_tokens": 50, "stop": ["\n"], "mode": "chat"},
    )

    request = recorder.requests[0]
    assert request.method == "POST"
    assert str(request.url) == f"{BASE_URL}/chat/completions"
    assert request.headers["authorization"] == "Bearer sk-1"
    assert recorder.body == {
        "model": "gpt-test",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hello there"},
        ],
        "temperature": 0.2,
        "max_tokens": 50,
        "stop": ["\n"],
    }
    assert result.text == "Hi!"
    assert result.finish_reason == "stop"
    assert (result.usage.prompt_tokens, result.usage.completion_tokens) == (7, 3)
    assert result.usage.total_tokens == 10
    assert result.json is None


def test_given_no_key_reference_when_called_then_no_authorization_header_is_sent():
    model, recorder = model_with(
        lambda _: httpx.Response(200, json=completion({"content": "ok"})), key=""
    )

    model.chat(MESSAGES, model="m")

    assert "authorization" not in recorder.requests[0].headers


def test_given_json_output_with_a_schema_when_called_then_it_asks_for_json_schema_and_parses_it():
    schema = {"type": "object", "properties": {"answer": {"type": "string"}}}
    model, recorder = model_with(
        lambda _: httpx.Response(
            200, json=completion({"content": '```json\n{"answer": "42"}\n```'})
        )
    )

    result = model.chat(MESSAGES, model="m", json_output=JsonOutput("reply", schema))

    assert recorder.body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "reply", "schema": schema, "strict": False},
    }
    assert result.json == {"answer": "42"}


def test_given_json_output_without_a_schema_when_called_then_it_asks_for_a_json_object():
    model, recorder = model_with(lambda _: httpx.Response(200, json=completion({"content": "no"})))

    result = model.chat(MESSAGES, model="m", json_output=JsonOutput())

    assert recorder.body["response_format"] == {"type": "json_object"}
    assert result.json is None  # the answer was not JSON: the caller decides what that means


def test_given_a_forced_tool_when_called_then_it_sends_the_tool_and_reads_the_call():
    call = {
        "id": "call_1",
        "type": "function",
        "function": {"name": "extract", "arguments": '{"city": "Paris"}'},
    }
    model, recorder = model_with(
        lambda _: httpx.Response(
            200, json=completion({"content": None, "tool_calls": [call]}, finish="tool_calls")
        )
    )

    result = model.chat(MESSAGES, model="m", tools=[EXTRACT], tool_choice="extract")

    assert recorder.body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "extract",
                "description": "Extract the city.",
                "parameters": EXTRACT.parameters,
            },
        }
    ]
    assert recorder.body["tool_choice"] == {"type": "function", "function": {"name": "extract"}}
    assert result.text == ""
    [tool_call] = result.tool_calls
    assert (tool_call.id, tool_call.name, tool_call.arguments) == (
        "call_1",
        "extract",
        {"city": "Paris"},
    )
    assert result.finish_reason == "tool_calls"


def test_given_tools_without_a_choice_when_called_then_the_model_decides():
    model, recorder = model_with(lambda _: httpx.Response(200, json=completion({"content": "x"})))

    model.chat(MESSAGES, model="m", tools=[EXTRACT])

    assert recorder.body["tool_choice"] == "auto"


def test_given_a_streaming_provider_when_called_then_the_chunks_are_assembled():
    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {
            "model": "gpt-test",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }

    body = sse(
        chunk({"role": "assistant", "content": ""}),
        ": keep-alive comment",
        chunk({"content": "Hel"}),
        chunk({"content": "lo, "}),
        chunk({"content": "world"}),
        chunk({}, "stop"),
        {"model": "gpt-test", "choices": [], "usage": {"prompt_tokens": 4, "completion_tokens": 3}},
        "[DONE]",
    )
    model, recorder = model_with(
        lambda _: httpx.Response(200, content=body, headers={"content-type": "text/event-stream"}),
        stream=True,
    )

    result = model.chat(MESSAGES, model="gpt-test")

    assert recorder.body["stream"] is True
    assert recorder.body["stream_options"] == {"include_usage": True}
    assert recorder.requests[0].headers["accept"] == "text/event-stream"
    assert result.text == "Hello, world"
    assert result.finish_reason == "stop"
    assert (result.usage.prompt_tokens, result.usage.completion_tokens) == (4, 3)


def test_given_streamed_tool_calls_when_called_then_their_arguments_are_joined_per_index():
    def tool_delta(index: int, **function: str) -> dict[str, Any]:
        call: dict[str, Any] = {"index": index, "function": function}
        if "name" in function:
            call["id"] = f"call_{index}"
        return {"choices": [{"index": 0, "delta": {"tool_calls": [call]}}]}

    body = sse(
        tool_delta(0, name="extract", arguments=""),
        tool_delta(1, name="extract", arguments='{"city"'),
        tool_delta(0, arguments='{"city": '),
        tool_delta(0, arguments='"Paris"}'),
        tool_delta(1, arguments=': "Rome"}'),
        {"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]},
        "[DONE]",
    )
    model, _ = model_with(lambda _: httpx.Response(200, content=body), stream=True)

    result = model.chat(MESSAGES, model="m", tools=[EXTRACT], tool_choice="extract")

    assert [(c.id, c.name, c.arguments) for c in result.tool_calls] == [
        ("call_0", "extract", {"city": "Paris"}),
        ("call_1", "extract", {"city": "Rome"}),
    ]
    assert result.usage.total_tokens == 0  # this server reported no usage


def test_given_an_error_chunk_mid_stream_when_called_then_it_is_a_provider_error():
    body = sse(
        {"choices": [{"index": 0, "delta": {"content": "Hi"}}]},
        {"error": {"message": "overloaded"}},
    )
    model, _ = model_with(lambda _: httpx.Response(200, content=body), stream=True)

    with pytest.raises(LlmProviderError, match="overloaded"):
        model.chat(MESSAGES, model="m")


@pytest.mark.parametrize(
    ("status", "error_type"),
    [
        (401, LlmAuthenticationFailed),
        (403, LlmAuthenticationFailed),
        (400, LlmRequestRejected),
        (404, LlmRequestRejected),
        (408, LlmTimeout),
        (500, LlmProviderError),
        (503, LlmProviderError),
    ],
)
@pytest.mark.parametrize("stream", [False, True])
def test_given_an_http_error_when_called_then_it_becomes_its_typed_error(
    status, error_type, stream
):
    model, _ = model_with(
        lambda _: httpx.Response(status, json={"error": {"message": "nope", "type": "x"}}),
        stream=stream,
    )

    with pytest.raises(error_type) as raised:
        model.chat(MESSAGES, model="m")

    assert type(raised.value) is error_type
    assert raised.value.status == status
    assert f"HTTP {status}: nope" in str(raised.value)
    assert "sk-1" not in str(raised.value)


def test_given_a_rate_limit_when_called_then_it_is_rate_limited_with_the_retry_after():
    model, _ = model_with(
        lambda _: httpx.Response(429, headers={"Retry-After": "3"}, text="slow down")
    )

    with pytest.raises(LlmRateLimited) as raised:
        model.chat(MESSAGES, model="m")

    assert raised.value.retry_after == 3.0
    assert raised.value.details["provider"] == "acme"
    assert "slow down" in str(raised.value)


def test_given_a_timeout_when_called_then_it_is_an_llm_timeout():
    def time_out(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    model, _ = model_with(time_out)

    with pytest.raises(LlmTimeout, match="within 5 s"):
        model.chat(MESSAGES, model="m")


def test_given_an_unreachable_provider_when_called_then_it_is_a_provider_error():
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    model, _ = model_with(refuse)

    with pytest.raises(LlmProviderError, match="could not be reached: ConnectError"):
        model.chat(MESSAGES, model="m")


@pytest.mark.parametrize("body", [b"<html>oops</html>", b"[1, 2]", b'{"choices": []}'])
def test_given_an_unreadable_answer_when_called_then_it_is_a_provider_error(body):
    model, _ = model_with(lambda _: httpx.Response(200, content=body))

    with pytest.raises(LlmProviderError):
        model.chat(MESSAGES, model="m")
