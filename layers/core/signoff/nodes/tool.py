"""tool: calls a tool the deployment registers (Settings.tools) under `<provider_id>/<tool_name>`.

The tool gets `{"tool": "<provider>/<tool>", "parameters": {...}}`: the node's
`tool_configurations`, then its `tool_parameters` resolved (`mixed`: text with `{{#node.var#}}`
references rendered; `variable`: the value a selector names; `constant`: as written). A Lambda
tool is invoked synchronously, an endpoint gets the same JSON in a POST (through the address
guard).

A tool answers a JSON object with any of `text` (a string), `json` (an object or a list of them)
and `files` (Dify file objects); any other key is an output variable of its own. A plain string
answer is `text`; any other JSON value is one `json` item. Outputs, as in Dify: `text`, `files`,
`json` (a list), and the tool's own variables.
"""

from __future__ import annotations

import json
from typing import Any

from signoff.graph.model import ToolNode
from signoff.graph.selectors import render_references
from signoff.nodes.context import NodeContext
from signoff.nodes.errors import ToolInvocationFailed, ToolNotRegistered
from signoff.nodes.remote_calls import call
from signoff.nodes.variables import VariableScope

_RESERVED = ("text", "files", "json")


def inputs(node: ToolNode, scope: VariableScope) -> dict[str, Any]:
    """The parameters the tool gets (what the execution record shows)."""
    parameters: dict[str, Any] = dict(node.tool_configurations)
    for name, given in node.tool_parameters.items():
        if given.type == "variable":
            parameters[name] = scope.resolve(given.value)
        elif given.type == "mixed":
            parameters[name] = render_references(given.value, scope.resolve)
        else:
            parameters[name] = given.value
    return parameters


def run(node: ToolNode, inputs: dict[str, Any], context: NodeContext) -> dict[str, Any]:
    name = node.registry_key
    target = context.integrations.tools.get(name)
    if target is None:
        raise ToolNotRegistered(
            f"tool {name} is not registered in this deployment (SIGNOFF_TOOLS)",
            details={"tool": name},
        )
    answer = call(
        target,
        {"tool": name, "parameters": inputs},
        context.integrations,
        what=f"tool {name}",
        error=ToolInvocationFailed,
    )
    return tool_outputs(answer, name)


def tool_outputs(answer: Any, name: str) -> dict[str, Any]:
    """Dify's tool outputs from a tool's answer."""
    if isinstance(answer, str):
        return {"text": answer, "files": [], "json": []}
    if not isinstance(answer, dict):
        return {"text": json.dumps(answer, ensure_ascii=False), "files": [], "json": [answer]}
    text = answer.get("text", "")
    files = answer.get("files", [])
    documents = answer.get("json", [])
    if not isinstance(text, str):
        text = json.dumps(text, ensure_ascii=False)
    if not isinstance(files, list) or not all(isinstance(item, dict) for item in files):
        raise ToolInvocationFailed(f"tool {name} answered files that are not a list of files")
    if not isinstance(documents, list):
        documents = [documents]
    variables = {key: value for key, value in answer.items() if key not in _RESERVED}
    return {**variables, "text": text, "files": files, "json": documents}
