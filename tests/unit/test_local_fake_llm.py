"""The fake OpenAI-compatible server, in process: what it answers, so the tests that run nodes
against it know what to expect, and that it speaks the wire format a real endpoint does."""

from __future__ import annotations

import json
import warnings
from typing import Any

import pytest

with warnings.catch_warnings():
    # Starlette 1.x nudges toward httpx2 for its TestClient; httpx is what this project pins.
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from signoff.local.fake_llm import create_app, local_provider_parameters

KEY = "sk-fake"
AUTH = {"Authorization": f"Bearer {KEY}"}


@pytest.fixture
def fake() -> TestClient:
    return TestClient(create_app(api_key=KEY))


def chat(fake: TestClient, **body: Any):
    return fake.post("/v1/chat/completions", json={"model": "echo", **body}, headers=AUTH)


def user(text: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": "Be kind."}, {"role": "user", "content": text}]


def test_given_a_plain_chat_when_asked_then_it_echoes_the_last_user_message_and_counts_words(
    fake,
):
    response = chat(fake, messages=user("hello big world"))

    assert response.status_code == 200
    body = response.json()
    assert body["object"] == "chat.completion"
    [choice] = body["choices"]
    assert choice["message"] == {"role": "assistant", "content": "echo: hello big world"}
    assert choice["finish_reason"] == "stop"
    assert body["usage"] == {"prompt_tokens": 5, "completion_tokens": 4, "total_tokens": 9}


def test_given_a_wrong_key_when_asked_then_401_in_openai_error_shape(fake):
    response = fake.post(
        "/v1/chat/completions",
        json={"model": "echo", "messages": user("x")},
        headers={"Authorization": "Bearer wrong"},
    )

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"


def test_given_a_failing_model_name_when_asked_then_it_answers_that_status(fake):
    response = chat(fake, model="error-429", messages=user("x"))

    assert response.status_code == 429
    assert response.headers["retry-after"] == "1"


def test_given_stream_when_asked_then_sse_chunks_rebuild_the_answer_and_end_with_done(fake):
    response = chat(
        fake, messages=user("one two three"), stream=True, stream_options={"include_usage": True}
    )

    assert response.headers["content-type"].startswith("text/event-stream")
    events = [line for line in response.text.split("\n\n") if line]
    assert events[-1] == "data: [DONE]"
    chunks = [json.loads(event.removeprefix("data: ")) for event in events[:-1]]
    assert {chunk["object"] for chunk in chunks} == {"chat.completion.chunk"}
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert text == "echo: one two three"
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["usage"]["completion_tokens"] == 4


def test_given_a_tool_when_asked_then_it_calls_it_with_name_value_pairs_from_the_prompt(fake):
    tool = {
        "type": "function",
        "function": {
            "name": "extract",
            "parameters": {
                "type": "object",
                "properties": {
                    "city": {"type": "string"},
                    "days": {"type": "number"},
                    "tags": {"type": "array", "items": {"type": "string"}},
                    "urgent": {"type": "boolean"},
                    "missing": {"type": "string"},
                    "mode": {"type": "string", "enum": ["train", "plane"]},
                },
                "required": ["mode"],
            },
        },
    }

    response = chat(
        fake,
        messages=user('go city="New York" days=3 tags=[a, b] urgent=yes'),
        tools=[tool],
        tool_choice={"type": "function", "function": {"name": "extract"}},
    )

    [choice] = response.json()["choices"]
    assert choice["finish_reason"] == "tool_calls"
    [call] = choice["message"]["tool_calls"]
    assert call["function"]["name"] == "extract"
    assert json.loads(call["function"]["arguments"]) == {
        "city": "New York",
        "days": 3,
        "tags": ["a", "b"],
        "urgent": True,
        "mode": "train",  # required, none written: the first option
    }


def test_given_a_json_schema_with_an_enum_when_asked_then_it_picks_the_option_in_the_prompt(
    fake,
):
    schema = {
        "type": "object",
        "properties": {"category_name": {"type": "string", "enum": ["Sales", "Refund"]}},
        "required": ["category_name"],
    }

    response = chat(
        fake,
        messages=user("I would like a refund please"),
        response_format={"type": "json_schema", "json_schema": {"name": "c", "schema": schema}},
    )

    content = response.json()["choices"][0]["message"]["content"]
    assert json.loads(content) == {"category_name": "Refund"}


def test_given_json_object_mode_when_asked_then_it_answers_a_json_object(fake):
    response = chat(fake, messages=user("hi"), response_format={"type": "json_object"})

    assert json.loads(response.json()["choices"][0]["message"]["content"]) == {"echo": "hi"}


def test_given_the_local_provider_parameters_then_they_reference_the_key_and_price_the_model():
    parameters = local_provider_parameters("http://127.0.0.1:9999/v1")

    providers = json.loads(parameters["LlmProviders"])
    assert providers["local"]["base_url"] == "http://127.0.0.1:9999/v1"
    assert providers["local"]["api_key_ref"].startswith("secretsmanager:signoff/")
    assert "local/echo" in json.loads(parameters["ModelPrices"])
