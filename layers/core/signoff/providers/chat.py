"""The chat model interface every provider implements, and the values that cross it."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from signoff.providers.usage import Usage

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True)
class ChatMessage:
    role: Role
    content: str


@dataclass(frozen=True)
class ToolSpec:
    """A function the model may call: its name, what it is for, and its arguments' JSON Schema."""

    name: str
    description: str
    parameters: Mapping[str, Any]


@dataclass(frozen=True)
class JsonOutput:
    """Ask for a JSON answer: conforming to `schema` when one is given, else any JSON object."""

    name: str = "output"
    schema: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class ToolCall:
    """A call the model made: `arguments` parsed from `arguments_text`, None when that is not a
    JSON object (the node decides what a malformed call means)."""

    id: str
    name: str
    arguments_text: str

    @property
    def arguments(self) -> dict[str, Any] | None:
        try:
            value = json.loads(self.arguments_text or "{}")
        except ValueError:
            return None
        return value if isinstance(value, dict) else None


@dataclass(frozen=True)
class ChatResult:
    """A model's answer: its text, the tools it called, the JSON it answered when JSON was asked
    for (None when the text did not parse), and the usage of the call."""

    text: str
    usage: Usage
    tool_calls: tuple[ToolCall, ...] = ()
    json: Any = None
    finish_reason: str | None = None
    model: str = ""


class ChatModel(Protocol):
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
        """One chat completion. `params` are Dify's completion_params (temperature, top_p,
        max_tokens, stop, ...); `tool_choice` names a tool the model must call (None: the model
        decides). Raises an LlmProviderError subclass when the provider fails."""
        ...


_FENCED = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL | re.IGNORECASE)


def json_from_text(text: str) -> Any:
    """The JSON value a model answered, also when it wrapped it in a ``` fence or in prose;
    None when there is none."""
    candidate = text.strip()
    fenced = _FENCED.match(candidate)
    if fenced:
        candidate = fenced.group(1)
    try:
        return json.loads(candidate)
    except ValueError:
        pass
    start, end = candidate.find("{"), candidate.rfind("}")
    if 0 <= start < end:
        try:
            return json.loads(candidate[start : end + 1])
        except ValueError:
            return None
    return None


class ChatModelSource(Protocol):
    """Where a node finds the chat model of a provider it names (signoff.providers.registry)."""

    def get(self, provider: str) -> ChatModel: ...
