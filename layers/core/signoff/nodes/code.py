"""code: runs the node's `main(**variables)` in the sandbox and checks the result against the
node's declared outputs (Dify's contract: every declared output present with its declared type;
null is accepted for any type and inside arrays, as in Dify; undeclared keys are dropped)."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Mapping
from typing import Any

from signoff.graph.model import CodeNode, CodeOutput
from signoff.nodes.context import NodeContext
from signoff.nodes.errors import CodeOutputError
from signoff.nodes.variables import VariableScope


def inputs(node: CodeNode, scope: VariableScope) -> dict[str, Any]:
    return scope.bind(node.variables)


def run(node: CodeNode, inputs: dict[str, Any], context: NodeContext) -> dict[str, Any]:
    # A re-run after a review: main() gets the reviewer's feedback and its previous outputs when
    # it asks for them by name (variables the node declares itself keep their values).
    review = {"feedback": context.feedback, "previous_output": context.previous_output}
    asked = {name: review[name] for name in review_arguments(node) if name not in inputs}
    result = context.code_runner.run(node.code_language, node.code, {**asked, **inputs})
    return check_outputs(node.outputs, result)


REVIEW_ARGUMENTS = ("feedback", "previous_output")
# `function main({a, b})`, `async function main({...})`, `const main = ({...}) =>`
_JS_MAIN = re.compile(
    r"(?:function\s+main\s*\(|\bmain\s*=\s*(?:async\s*)?(?:function\s*)?\()\s*\{([^}]*)\}"
)


def review_arguments(node: CodeNode) -> list[str]:
    """The review values (`feedback`, `previous_output`) the code's main() names as parameters;
    none when the code does not parse (the sandbox reports that)."""
    if node.code_language == "javascript":
        match = _JS_MAIN.search(node.code)
        if match is None:
            return []
        names = {part.split("=")[0].split(":")[0].strip() for part in match[1].split(",")}
    else:
        try:
            tree = ast.parse(node.code)
        except SyntaxError:
            return []
        main = next(
            (
                statement
                for statement in tree.body
                if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef)
                and statement.name == "main"
            ),
            None,
        )
        if main is None:
            return []
        arguments = main.args
        names = {
            argument.arg
            for argument in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
        }
    return [name for name in REVIEW_ARGUMENTS if name in names]


def check_outputs(declared: Mapping[str, CodeOutput], result: Mapping[str, Any]) -> dict[str, Any]:
    """The declared outputs taken from `result`; CodeOutputError naming the first that is missing
    or of the wrong type."""
    outputs: dict[str, Any] = {}
    for name, output in declared.items():
        if name not in result:
            raise CodeOutputError(name, "main() did not return it")
        value = result[name]
        if value is not None and not _TYPE_CHECKS[output.type](value):
            raise CodeOutputError(name, f"must be {output.type}, not {_describe(value)}")
        outputs[name] = value
    return outputs


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _array_of(check: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda value: (
        isinstance(value, list) and all(item is None or check(item) for item in value)
    )


def _is_string(value: Any) -> bool:
    return isinstance(value, str)


def _is_boolean(value: Any) -> bool:
    return isinstance(value, bool)


def _is_object(value: Any) -> bool:
    return isinstance(value, dict)


_TYPE_CHECKS: dict[str, Callable[[Any], bool]] = {
    "string": _is_string,
    "number": _is_number,
    "boolean": _is_boolean,
    "object": _is_object,
    "array[string]": _array_of(_is_string),
    "array[number]": _array_of(_is_number),
    "array[object]": _array_of(_is_object),
    "array[boolean]": _array_of(_is_boolean),
}


def _describe(value: Any) -> str:
    if isinstance(value, list):
        kinds = sorted({_json_type(item) for item in value})
        return f"an array of {' and '.join(kinds)}" if kinds else "an array"
    return _json_type(value)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__
