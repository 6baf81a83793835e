"""question-classifier: asks the node's chat model which of its classes the query belongs to
(JSON output naming the class), outputs `class_name`, `class_id` and `usage`, and leaves by the
chosen class's handle (its id). As in Dify, an answer naming no class picks the first class.
"""

from __future__ import annotations

from typing import Any

from signoff.graph.model import ClassifierClass, QuestionClassifierNode
from signoff.graph.selectors import as_text
from signoff.nodes.context import NodeContext
from signoff.nodes.llm_prompt import chat_model, referenced_values, render_text, review_turns
from signoff.nodes.variables import VariableScope
from signoff.providers.chat import ChatMessage, JsonOutput, json_from_text

QUERY_KEY = "query"
_ANSWER_FIELD = "category_name"


def inputs(node: QuestionClassifierNode, scope: VariableScope) -> dict[str, Any]:
    return {
        QUERY_KEY: as_text(scope.resolve(node.query_variable_selector)),
        **referenced_values([node.instruction], scope),
    }


def run(node: QuestionClassifierNode, inputs: dict[str, Any], context: NodeContext) -> dict:
    names = _distinct([_label(entry) for entry in node.classes])
    schema = {
        "type": "object",
        "properties": {
            _ANSWER_FIELD: {
                "type": "string",
                "enum": names,
                "description": "The name of the one category the text belongs to.",
            }
        },
        "required": [_ANSWER_FIELD],
    }
    messages = [
        ChatMessage("system", _system_prompt(node, inputs, names)),
        # The query alone: the text to classify is never mixed with the instructions.
        ChatMessage("user", inputs[QUERY_KEY]),
        *review_turns(context),
    ]
    result = chat_model(context, node.model).chat(
        messages,
        model=node.model.name,
        params=node.model.completion_params,
        json_output=JsonOutput(name="classification", schema=schema),
    )
    answer = result.json if result.json is not None else json_from_text(result.text)
    chosen = choose_class(node.classes, answer)
    return {
        "class_name": _label(chosen),
        "class_id": chosen.id,
        "usage": result.usage.as_dict(),
    }


def handle(outputs: dict[str, Any]) -> str:
    """The edge handle the node leaves by: the chosen class's id."""
    return outputs["class_id"]


def usage(outputs: dict[str, Any]) -> dict[str, Any] | None:
    """The usage the node function reports for the run's totals."""
    return outputs.get("usage")


def choose_class(classes: list[ClassifierClass], answer: Any) -> ClassifierClass:
    """The class the model's answer names (by name, any case; or by id), else the first."""
    if isinstance(answer, dict):
        named = answer.get(_ANSWER_FIELD) or answer.get("category") or answer.get("class_name")
        if isinstance(named, str):
            for matches in (
                lambda entry: _label(entry) == named,
                lambda entry: _label(entry).casefold() == named.strip().casefold(),
                lambda entry: entry.id == named,
            ):
                for entry in classes:
                    if matches(entry):
                        return entry
        named_id = answer.get("category_id") or answer.get("class_id")
        for entry in classes:
            if named_id is not None and entry.id == str(named_id):
                return entry
    return classes[0]


def _system_prompt(node: QuestionClassifierNode, inputs: dict[str, Any], names: list[str]) -> str:
    lines = [
        "You are a text classifier. Decide which one of these categories the user's text "
        "belongs to:",
        *(f"- {name}" for name in names),
        f'Answer with a JSON object only: {{"{_ANSWER_FIELD}": "<one of the categories>"}}.',
    ]
    instruction = render_text(node.instruction, inputs).strip()
    if instruction:
        lines += ["", "Instructions:", instruction]
    return "\n".join(lines)


def _label(entry: ClassifierClass) -> str:
    return entry.name or entry.id


def _distinct(names: list[str]) -> list[str]:
    return list(dict.fromkeys(names))
