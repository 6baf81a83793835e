"""Prompts of the model-backed nodes (llm, question-classifier, parameter-extractor): the values
their texts reference, and the chat messages rendered from them.

A node's inputs (what its execution record shows) are keyed as Dify keys them: `#node.var#` for a
`{{#node.var#}}` reference, `#context#` for the llm node's context, and each Jinja2 variable by
its name.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NoReturn

from jinja2 import TemplateError, Undefined
from jinja2.sandbox import SandboxedEnvironment, SecurityError

from signoff.graph.model import ModelConfig
from signoff.graph.selectors import as_text, find_references, render_references
from signoff.nodes.context import NodeContext
from signoff.nodes.errors import TemplateRenderError
from signoff.nodes.variables import VariableScope
from signoff.providers.chat import ChatMessage, ChatModel
from signoff.providers.errors import LlmProviderNotConfigured

CONTEXT_KEY = "#context#"
# `{{#context#}}` in an llm prompt: where the node's context goes (Dify's spelling).
CONTEXT_PLACEHOLDER = "{{#context#}}"


class _StrictSandbox(SandboxedEnvironment):
    def unsafe_undefined(self, obj: Any, attribute: str) -> NoReturn:
        raise SecurityError(
            f"access to attribute {attribute!r} of {type(obj).__name__!r} is not allowed"
        )


_jinja = _StrictSandbox(autoescape=False, undefined=Undefined)


def reference_key(selector: Sequence[str]) -> str:
    return f"#{'.'.join(selector)}#"


def referenced_values(texts: Iterable[str], scope: VariableScope) -> dict[str, Any]:
    """`{"#node.var#": value}` for every well-formed reference in these texts."""
    values: dict[str, Any] = {}
    for text in texts:
        for reference in find_references(text):
            if reference.is_well_formed:
                key = reference_key(reference.selector)
                if key not in values:
                    values[key] = scope.resolve(reference.selector)
    return values


def render_text(text: str, inputs: Mapping[str, Any]) -> str:
    """A basic prompt text with its references (and `{{#context#}}`) replaced by their values."""
    text = text.replace(CONTEXT_PLACEHOLDER, as_text(inputs.get(CONTEXT_KEY)))
    return render_references(text, lambda selector: inputs.get(reference_key(selector)))


def render_jinja2(template: str, variables: Mapping[str, Any]) -> str:
    """A Jinja2 prompt text, rendered in the sandbox (no autoescaping; undefined is empty)."""
    try:
        return _jinja.from_string(template).render(dict(variables))
    except SecurityError as error:
        raise TemplateRenderError(f"the prompt template was refused: {error}") from error
    except TemplateError as error:
        line = getattr(error, "lineno", None)
        where = f" (line {line})" if line else ""
        raise TemplateRenderError(
            f"the prompt template failed{where}: {type(error).__name__}: {error}"
        ) from error
    except Exception as error:
        raise TemplateRenderError(
            f"the prompt template failed: {type(error).__name__}: {error}"
        ) from error


def context_text(value: Any) -> str:
    """How a context value reads in a prompt: text as is; retrieval results (objects with
    `content`) one per line; anything else as JSON."""
    if isinstance(value, list):
        parts = [
            str(item.get("content", "")) if isinstance(item, dict) else as_text(item)
            for item in value
        ]
        return "\n".join(part for part in parts if part)
    if isinstance(value, dict) and "content" in value:
        return str(value["content"])
    return as_text(value)


def review_turns(context: NodeContext) -> list[ChatMessage]:
    """A reviewer's round trip appended to a conversation: the node's previous answer, then the
    reviewer's feedback on it (empty when the node is not being re-run after a review)."""
    if not context.feedback:
        return []
    turns: list[ChatMessage] = []
    previous = _previous_answer(context.previous_output)
    if previous:
        turns.append(ChatMessage("assistant", previous))
    turns.append(ChatMessage("user", context.feedback))
    return turns


def chat_model(context: NodeContext, model: ModelConfig) -> ChatModel:
    """The chat model of the node's provider, from the deployment's configuration."""
    if context.chat_models is None:
        raise LlmProviderNotConfigured(
            f"LLM provider {model.provider!r} is not configured: this deployment configures no "
            "LLM providers (see SIGNOFF_LLM_PROVIDERS)"
        )
    return context.chat_models.get(model.provider)


def _previous_answer(previous: Any) -> str:
    if previous is None:
        return ""
    if isinstance(previous, str):
        return previous
    if isinstance(previous, dict) and isinstance(previous.get("text"), str):
        return previous["text"]
    return json.dumps(previous, ensure_ascii=False)
