"""parameter-extractor: asks the node's chat model for its declared parameters, found in the
query, through a tool call (reasoning_mode function_call) or a JSON answer (prompt); outputs each
parameter, `__is_success`, `__reason` and `__usage`, as Dify does.

Dify's semantics: an answer that misses a required parameter or gives one of the wrong type is
not a failure of the node: every parameter takes its type's empty value, `__is_success` is 0 and
`__reason` says why. A provider failure is a node failure.
"""

from __future__ import annotations

from typing import Any

from signoff.graph.model import ExtractedParameter, ParameterExtractorNode
from signoff.graph.selectors import as_text
from signoff.nodes.context import NodeContext
from signoff.nodes.llm_prompt import chat_model, referenced_values, render_text, review_turns
from signoff.nodes.variables import VariableScope
from signoff.providers.chat import ChatMessage, ChatResult, JsonOutput, ToolSpec, json_from_text

QUERY_KEY = "query"
TOOL_NAME = "extract_parameters"

_SCHEMA_TYPES: dict[str, dict[str, Any]] = {
    "string": {"type": "string"},
    "select": {"type": "string"},
    "number": {"type": "number"},
    "bool": {"type": "boolean"},
    "boolean": {"type": "boolean"},
    "array[string]": {"type": "array", "items": {"type": "string"}},
    "array[number]": {"type": "array", "items": {"type": "number"}},
    "array[object]": {"type": "array", "items": {"type": "object"}},
    "array[bool]": {"type": "array", "items": {"type": "boolean"}},
    "array[boolean]": {"type": "array", "items": {"type": "boolean"}},
}


class ExtractionInvalid(ValueError):
    """The model's answer does not give the declared parameters (becomes `__reason`)."""


def inputs(node: ParameterExtractorNode, scope: VariableScope) -> dict[str, Any]:
    return {
        QUERY_KEY: as_text(scope.resolve(node.query)),
        **referenced_values([node.instruction], scope),
    }


def run(node: ParameterExtractorNode, inputs: dict[str, Any], context: NodeContext) -> dict:
    schema = parameters_schema(node.parameters)
    messages = [
        ChatMessage("system", _system_prompt(node, inputs)),
        ChatMessage("user", inputs[QUERY_KEY]),
        *review_turns(context),
    ]
    model = chat_model(context, node.model)
    if node.reasoning_mode == "function_call":
        tool = ToolSpec(TOOL_NAME, "Give the parameters found in the user's text.", schema)
        result = model.chat(
            messages,
            model=node.model.name,
            params=node.model.completion_params,
            tools=[tool],
            tool_choice=TOOL_NAME,
        )
    else:
        result = model.chat(
            messages,
            model=node.model.name,
            params=node.model.completion_params,
            json_output=JsonOutput(name="parameters", schema=schema),
        )

    try:
        values = checked_values(node.parameters, answer_of(result))
        success, reason = 1, None
    except ExtractionInvalid as error:
        values = {entry.name: empty_value(entry.type) for entry in node.parameters}
        success, reason = 0, str(error)
    return {
        **values,
        "__is_success": success,
        "__reason": reason,
        "__usage": result.usage.as_dict(),
    }


def usage(outputs: dict[str, Any]) -> dict[str, Any] | None:
    """The usage the node function reports for the run's totals."""
    return outputs.get("__usage")


def parameters_schema(parameters: list[ExtractedParameter]) -> dict[str, Any]:
    """The JSON Schema of the parameters: what the tool takes, or the JSON answer must be."""
    properties: dict[str, Any] = {}
    for entry in parameters:
        spec = dict(_SCHEMA_TYPES[entry.type])
        if entry.description:
            spec["description"] = entry.description
        if entry.type == "select":
            spec["enum"] = list(entry.options)
        properties[entry.name] = spec
    return {
        "type": "object",
        "properties": properties,
        "required": [entry.name for entry in parameters if entry.required],
    }


def answer_of(result: ChatResult) -> dict[str, Any]:
    """The parameters object the model answered: its tool call's arguments, else JSON in its
    text (models asked to call a tool sometimes write the JSON instead)."""
    for call in result.tool_calls:
        if call.name == TOOL_NAME:
            if call.arguments is None:
                raise ExtractionInvalid(
                    f"the model called {TOOL_NAME} with arguments that are not a JSON object"
                )
            return call.arguments
    answer = result.json if result.json is not None else json_from_text(result.text)
    if not isinstance(answer, dict):
        raise ExtractionInvalid("the model answered neither a tool call nor a JSON object")
    return answer


def checked_values(parameters: list[ExtractedParameter], answer: dict[str, Any]) -> dict:
    """Each declared parameter's value, converted to its type (numbers and booleans written as
    text are accepted); a missing optional parameter takes its type's empty value."""
    values: dict[str, Any] = {}
    for entry in parameters:
        value = answer.get(entry.name)
        if value is None or (value == "" and entry.type != "string"):
            if entry.required:
                raise ExtractionInvalid(f"parameter {entry.name} is required")
            values[entry.name] = empty_value(entry.type)
            continue
        values[entry.name] = _converted(entry, value)
    return values


def empty_value(parameter_type: str) -> Any:
    if parameter_type.startswith("array["):
        return []
    if parameter_type == "number":
        return 0
    if parameter_type in ("bool", "boolean"):
        return False
    return ""


def _converted(entry: ExtractedParameter, value: Any) -> Any:
    kind = entry.type
    if kind.startswith("array["):
        if not isinstance(value, list):
            raise ExtractionInvalid(f"parameter {entry.name} must be an array")
        item_kind = kind[len("array[") : -1]
        return [_scalar(entry.name, item_kind, item) for item in value]
    converted = _scalar(entry.name, kind, value)
    if kind == "select" and converted not in entry.options:
        raise ExtractionInvalid(
            f"parameter {entry.name} must be one of {', '.join(entry.options)}, not {converted!r}"
        )
    return converted


def _scalar(name: str, kind: str, value: Any) -> Any:
    if kind == "number":
        if isinstance(value, bool):
            raise ExtractionInvalid(f"parameter {name} must be a number")
        if isinstance(value, int | float):
            return value
        try:
            number = float(str(value).strip())
        except ValueError:
            raise ExtractionInvalid(f"parameter {name} must be a number, not {value!r}") from None
        return int(number) if number.is_integer() and "." not in str(value) else number
    if kind in ("bool", "boolean"):
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        raise ExtractionInvalid(f"parameter {name} must be a boolean, not {value!r}")
    if kind == "object":
        if not isinstance(value, dict):
            raise ExtractionInvalid(f"parameter {name} must hold objects")
        return value
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise ExtractionInvalid(f"parameter {name} must be text, not {type(value).__name__}")


def _system_prompt(node: ParameterExtractorNode, inputs: dict[str, Any]) -> str:
    lines = ["Extract these parameters from the user's text:"]
    for entry in node.parameters:
        need = "required" if entry.required else "optional"
        line = f"- {entry.name} ({entry.type}, {need})"
        if entry.description:
            line += f": {entry.description}"
        if entry.options:
            line += f" One of: {', '.join(entry.options)}."
        lines.append(line)
    if node.reasoning_mode == "function_call":
        lines.append(f"Call {TOOL_NAME} with the parameters you found; leave out any not given.")
    else:
        lines.append("Answer with a JSON object of the parameters you found, and nothing else.")
    instruction = render_text(node.instruction, inputs).strip()
    if instruction:
        lines += ["", "Instructions:", instruction]
    return "\n".join(lines)
