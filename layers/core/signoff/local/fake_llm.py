"""A deterministic OpenAI-compatible chat server: the local cloud's LLM provider and a test double
for a real endpoint. Nodes reach it like any provider (`SIGNOFF_LLM_PROVIDERS`), never through a
code path of their own.

What it answers to `POST /v1/chat/completions`, from the last user message (the "prompt"):
- plain chat: `echo: <prompt>`;
- tools: a call of the tool `tool_choice` names (else the first), its arguments filled from the
  tool's JSON Schema (below);
- `response_format` json_schema: a JSON object filled from the schema; json_object: `{"echo": ...}`.
Filling a schema: a property takes the value written `name=value` in the prompt (quoted, or up to
the next space, comma or semicolon; `[a, b]` for arrays), converted to its type; a property with
an `enum` takes that value when it is one of them, else the first enum value that appears in the
prompt, else (when required) the first. Anything else is left out.
Usage counts words: prompt tokens = words of every message, completion tokens = words answered.
`stream: true` answers server-sent chunks, word by word, then usage (with `stream_options.
include_usage`), then `data: [DONE]`. A model named `error-<status>` answers that HTTP status
(429 with Retry-After), so failure handling can be exercised end to end.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections.abc import Iterator, Mapping
from types import TracebackType
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

MODEL = "echo"
_FAILING_MODEL = re.compile(r"^error-(\d{3})$")
_MISSING = object()


def create_app(api_key: str | None = None) -> Starlette:
    """The server's ASGI app; with `api_key`, requests must send it as a bearer token."""

    async def completions(request: Request) -> Response:
        if api_key is not None and request.headers.get("authorization") != f"Bearer {api_key}":
            return _error(401, "invalid_api_key", "Incorrect API key provided.")
        try:
            body = await request.json()
        except ValueError:
            return _error(400, "invalid_request_error", "The body is not JSON.")
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            return _error(400, "invalid_request_error", "'messages' is required.")
        model = str(body.get("model") or "")
        failing = _FAILING_MODEL.match(model)
        if failing:
            status = int(failing.group(1))
            headers = {"Retry-After": "1"} if status == 429 else None
            return _error(status, "fake_failure", f"model {model} fails on purpose", headers)
        completion = complete(body)
        if body.get("stream"):
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            return StreamingResponse(
                _sse(stream_chunks(completion, include_usage=include_usage)),
                media_type="text/event-stream",
            )
        return JSONResponse(completion)

    async def models(request: Request) -> Response:
        return JSONResponse({"object": "list", "data": [{"id": MODEL, "object": "model"}]})

    return Starlette(
        routes=[
            Route("/v1/chat/completions", completions, methods=["POST"]),
            Route("/v1/models", models, methods=["GET"]),
        ]
    )


def complete(body: Mapping[str, Any]) -> dict[str, Any]:
    """The completion the server answers to one request (not streamed)."""
    messages = [message for message in body["messages"] if isinstance(message, dict)]
    prompt = last_user_text(messages)
    message: dict[str, Any] = {"role": "assistant", "content": None}
    finish_reason = "stop"
    tools = [tool for tool in body.get("tools") or [] if isinstance(tool, dict)]
    response_format = body.get("response_format") or {}
    if tools:
        tool = _chosen_tool(tools, body.get("tool_choice"))
        function = tool.get("function") or {}
        arguments = json.dumps(fill(function.get("parameters") or {}, prompt))
        message["tool_calls"] = [
            {
                "id": f"call_{_digest(function.get('name', '') + arguments)}",
                "type": "function",
                "function": {"name": function.get("name", ""), "arguments": arguments},
            }
        ]
        answered = arguments
        finish_reason = "tool_calls"
    elif response_format.get("type") == "json_schema":
        schema = (response_format.get("json_schema") or {}).get("schema") or {}
        answered = message["content"] = json.dumps(fill(schema, prompt))
    elif response_format.get("type") == "json_object":
        answered = message["content"] = json.dumps({"echo": prompt})
    else:
        answered = message["content"] = f"echo: {prompt}"
    prompt_tokens = sum(words(_text_of(m.get("content"))) for m in messages)
    completion_tokens = words(answered)
    return {
        "id": f"chatcmpl-{_digest(answered)}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": str(body.get("model") or MODEL),
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def stream_chunks(completion: Mapping[str, Any], *, include_usage: bool) -> Iterator[dict]:
    """A completion as the chunks a streaming server sends: the role, the content word by word,
    each tool call's name and then its arguments in two pieces, the finish reason, the usage."""
    base = {k: completion[k] for k in ("id", "created", "model")}
    base["object"] = "chat.completion.chunk"
    choice = completion["choices"][0]
    message = choice["message"]

    def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        return {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}]}

    yield chunk({"role": "assistant", "content": ""})
    for piece in re.findall(r"\s*\S+", message.get("content") or ""):
        yield chunk({"content": piece})
    for index, call in enumerate(message.get("tool_calls") or []):
        arguments = call["function"]["arguments"]
        half = len(arguments) // 2
        yield chunk(
            {
                "tool_calls": [
                    {
                        "index": index,
                        "id": call["id"],
                        "type": "function",
                        "function": {"name": call["function"]["name"], "arguments": ""},
                    }
                ]
            }
        )
        for piece in (arguments[:half], arguments[half:]):
            yield chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
    yield chunk({}, choice["finish_reason"])
    if include_usage:
        yield {**base, "choices": [], "usage": completion["usage"]}


def last_user_text(messages: list[Mapping[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            return _text_of(message.get("content"))
    return ""


def words(text: str) -> int:
    return len(text.split())


def fill(schema: Mapping[str, Any], prompt: str) -> dict[str, Any]:
    """A JSON object for an object schema, its properties taken from the prompt (module doc)."""
    properties = schema.get("properties") or {}
    required = set(schema.get("required") or ())
    filled: dict[str, Any] = {}
    for name, spec in properties.items():
        value = _value_for(name, spec if isinstance(spec, dict) else {}, prompt, name in required)
        if value is not _MISSING:
            filled[name] = value
    return filled


def _value_for(name: str, spec: Mapping[str, Any], prompt: str, required: bool) -> Any:
    written = _written_value(name, prompt)
    options = spec.get("enum")
    if options:
        if written is not None and written in options:
            return written
        lowered = prompt.lower()
        for option in options:
            if str(option).lower() in lowered:
                return option
        return options[0] if required else _MISSING
    if written is None:
        return _MISSING
    return _converted(written, spec)


def _written_value(name: str, prompt: str) -> str | None:
    pattern = rf"(?<![\w.]){re.escape(name)}\s*=\s*(\"[^\"]*\"|'[^']*'|\[[^\]]*\]|[^\s,;]+)"
    match = re.search(pattern, prompt)
    if not match:
        return None
    value = match.group(1)
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def _converted(text: str, spec: Mapping[str, Any]) -> Any:
    kind = spec.get("type")
    if kind == "array":
        inner = text[1:-1] if text.startswith("[") and text.endswith("]") else text
        items = [item.strip().strip("\"'") for item in inner.split(",") if item.strip()]
        item_spec = spec.get("items") or {}
        converted = [_converted(item, item_spec) for item in items]
        return [item for item in converted if item is not _MISSING]
    if kind in ("number", "integer"):
        try:
            number = float(text)
        except ValueError:
            return _MISSING
        return int(number) if kind == "integer" or number.is_integer() else number
    if kind == "boolean":
        return text.lower() in ("true", "yes", "1")
    if kind == "object":
        try:
            return json.loads(text)
        except ValueError:
            return _MISSING
    return text


def _chosen_tool(tools: list[dict[str, Any]], tool_choice: Any) -> dict[str, Any]:
    if isinstance(tool_choice, dict):
        wanted = (tool_choice.get("function") or {}).get("name")
        for tool in tools:
            if (tool.get("function") or {}).get("name") == wanted:
                return tool
    return tools[0]


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(part.get("text", "") for part in content if isinstance(part, dict)).strip()
    return ""


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _error(
    status: int, kind: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        {"error": {"message": message, "type": kind, "code": kind}}, status, headers=headers
    )


async def _sse(chunks: Iterator[dict[str, Any]]):
    for chunk in chunks:
        yield f"data: {json.dumps(chunk)}\n\n"
    yield "data: [DONE]\n\n"


class FakeLlmServer:
    """The fake server on a local port, served from a side thread; a context manager.

    `base_url` (`http://<host>:<port>/v1`) is what a provider's `base_url` is set to.
    """

    def __init__(self, *, api_key: str | None = None, host: str = "127.0.0.1", port: int = 0):
        self.api_key = api_key
        self._host = host
        self._port = port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""

    def __enter__(self) -> FakeLlmServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> str:
        config = uvicorn.Config(
            create_app(self.api_key),
            host=self._host,
            port=self._port,
            log_level="warning",
            access_log=False,
            lifespan="off",
        )
        self._server = uvicorn.Server(config)
        self._server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
        self._thread = threading.Thread(target=self._server.run, name="fake-llm", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the fake LLM server did not start")
            time.sleep(0.02)
        host, port = self._server.servers[0].sockets[0].getsockname()[:2]
        self.base_url = f"http://{host}:{port}/v1"
        return self.base_url

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
            if self._thread is not None:
                self._thread.join(timeout=10)
            self._server = None
            self._thread = None


# How the local cloud configures the fake server as the deployment's provider "local": its key in
# (moto's) Secrets Manager, referenced like any provider's, and a price for its model, so runs
# report tokens and cost as they would with a real endpoint.
LOCAL_PROVIDER = "local"
LOCAL_SECRET_ID = "signoff/local/llm-api-key"
LOCAL_PRICES: dict[str, dict[str, Any]] = {
    f"{LOCAL_PROVIDER}/{MODEL}": {"input_per_1k": 1.0, "output_per_1k": 2.0, "currency": "USD"}
}


def local_provider_parameters(base_url: str) -> dict[str, str]:
    """template.yaml's parameter overrides that make provider `local` the fake server."""
    providers = {
        LOCAL_PROVIDER: {
            "type": "openai-compatible",
            "base_url": base_url,
            "api_key_ref": f"secretsmanager:{LOCAL_SECRET_ID}",
            "stream": True,
        }
    }
    return {"LlmProviders": json.dumps(providers), "ModelPrices": json.dumps(LOCAL_PRICES)}
