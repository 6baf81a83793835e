"""llm: renders the node's prompt, calls its chat model, and outputs `text` (with
`reasoning_content`, `usage`, and `structured_output` when that is enabled), as Dify does.

The prompt is Dify's prompt_template: chat messages (system/user/assistant) or one completion
text, each basic (`{{#node.var#}}` references, `{{#context#}}`) or Jinja2 (over
prompt_config.jinja2_variables). A node re-run after a review gets its previous answer and the
reviewer's feedback appended to the conversation.
"""

from __future__ import annotations

import re
from typing import Any

from signoff.graph.model import CompletionPrompt, LlmNode, PromptMessage
from signoff.nodes.context import NodeContext
from signoff.nodes.llm_prompt import (
    CONTEXT_KEY,
    chat_model,
    context_text,
    referenced_values,
    render_jinja2,
    render_text,
    review_turns,
)
from signoff.nodes.variables import VariableScope
from signoff.providers.chat import ChatMessage, JsonOutput, json_from_text
from signoff.providers.errors import LlmOutputInvalid

_THINKING = re.compile(r"<think>(.*?)</think>\s*", re.DOTALL)


def inputs(node: LlmNode, scope: VariableScope) -> dict[str, Any]:
    values = referenced_values(node.texts(), scope)
    if node.context.enabled and node.context.variable_selector:
        values[CONTEXT_KEY] = context_text(scope.resolve(node.context.variable_selector))
    if node.prompt_config:
        values.update(scope.bind(node.prompt_config.jinja2_variables))
    return values


def run(node: LlmNode, inputs: dict[str, Any], context: NodeContext) -> dict[str, Any]:
    messages = build_messages(node, inputs) + review_turns(context)
    params = node.model.completion_params
    result = chat_model(context, node.model).chat(
        messages, model=node.model.name, params=params, json_output=_json_output(node)
    )
    text, reasoning = split_reasoning(result.text, node.reasoning_format)
    outputs: dict[str, Any] = {
        "text": text,
        "reasoning_content": reasoning,
        "usage": result.usage.as_dict(),
    }
    if node.structured_output_enabled:
        structured = result.json if result.json is not None else json_from_text(result.text)
        if not isinstance(structured, dict):
            raise LlmOutputInvalid(
                f"node {node.id}: the model's answer is not the JSON object its structured "
                f"output asks for: {result.text[:200]!r}"
            )
        outputs["structured_output"] = structured
    return outputs


def usage(outputs: dict[str, Any]) -> dict[str, Any] | None:
    """The usage the node function reports for the run's totals."""
    return outputs.get("usage")


def build_messages(node: LlmNode, inputs: dict[str, Any]) -> list[ChatMessage]:
    """The node's prompt rendered over its inputs: one message per prompt_template entry; a
    completion-mode prompt is one user message."""
    if isinstance(node.prompt_template, CompletionPrompt):
        return [ChatMessage("user", _render(node.prompt_template, inputs))]
    return [ChatMessage(entry.role, _render(entry, inputs)) for entry in node.prompt_template]


def split_reasoning(text: str, reasoning_format: str | None) -> tuple[str, str]:
    """`(text, reasoning_content)`: with reasoning_format `separated`, a model's `<think>` block
    moves out of the text into reasoning_content; otherwise the text keeps it (Dify's `tagged`)."""
    if reasoning_format != "separated":
        return text, ""
    reasoning = "\n".join(match.strip() for match in _THINKING.findall(text))
    return _THINKING.sub("", text).strip(), reasoning


def _render(entry: PromptMessage | CompletionPrompt, inputs: dict[str, Any]) -> str:
    if entry.edition_type == "jinja2":
        return render_jinja2(entry.jinja2_text or "", inputs)
    return render_text(entry.text, inputs)


def _json_output(node: LlmNode) -> JsonOutput | None:
    if node.structured_output_enabled:
        declared = node.structured_output or {}
        schema = declared.get("schema", declared if "type" in declared else None)
        return JsonOutput(name="structured_output", schema=schema or None)
    if node.model.completion_params.get("response_format") == "json_object":
        return JsonOutput(name="output")
    return None
