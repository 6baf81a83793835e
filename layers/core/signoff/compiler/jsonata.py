"""Building JSONata expressions for ASL (QueryLanguage JSONata) from Python values.

Everything user-written that lands in an expression goes through `literal`, and everything
user-written that lands in a plain ASL string goes through `plain`: in JSONata mode a string
field that starts with `{%` and ends with `%}` is evaluated, so user text (a Jinja template is a
likely one) must never look like that by accident. `plain` also spells empty and multi-line
strings as JSONata string literals: asl-validator's schema wants every string in Arguments or
Assign to be one non-empty line (Step Functions itself takes them either way).
"""

from __future__ import annotations

import json
import re
from typing import Any

from signoff.compiler.variables import Variables
from signoff.graph.model import ITERATION_INDEX, ITERATION_ITEM
from signoff.graph.selectors import (
    SYS_VARIABLES,
    Reference,
    is_run_variable,
    is_sys,
    split_references,
)

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_KEYWORDS = frozenset({"and", "or", "in", "true", "false", "null", "function"})
# What `.` does not match in a JavaScript regular expression: a string holding one is not one line.
_LINE_BREAKS = ("\n", "\r", "\u2028", "\u2029")
_ESCAPES = {"\u2028": "\\u2028", "\u2029": "\\u2029", "{%": "{\\u0025", "%}": "\\u0025}"}


def template(expression: str) -> str:
    """An ASL field value that is this JSONata expression."""
    return "{% " + expression + " %}"


def literal(value: Any) -> str:
    """A JSONata literal for a JSON value (strings escaped as JSON, which JSONata reads)."""
    text = json.dumps(value, ensure_ascii=False)
    # Line separators would break the expression's one line; brace-percent pairs are harmless
    # to JSONata but could confuse whatever finds the `{% ... %}` around the expression.
    for raw, escaped in _ESCAPES.items():
        text = text.replace(raw, escaped)
    return text


def plain(value: Any) -> Any:
    """A JSON value for an ASL field, its strings kept literal even when they look like `{% %}`."""
    if isinstance(value, str):
        stripped = value.strip()
        looks_like_jsonata = stripped.startswith("{%") and stripped.endswith("%}")
        if not value or looks_like_jsonata or any(c in value for c in _LINE_BREAKS):
            return template(literal(value))
        return value
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def field_name(name: str) -> str:
    """A path step naming an object key."""
    if _NAME.fullmatch(name) and name not in _KEYWORDS:
        return name
    if "`" in name:
        # JSONata cannot quote a backtick inside a name; look the key up instead.
        return f"$lookup($, {literal(name)})"
    return f"`{name}`"


def selector_value(selector: list[str], variables: Variables | None = None) -> str:
    """The value a selector names; null, not undefined, when it is missing or its node skipped."""
    variables = variables or Variables.plain()
    if is_sys(selector):
        path = f"$run.{field_name(SYS_VARIABLES[selector[1]])}"
    elif is_run_variable(selector):
        # env.* and conversation.*: the run context's `env` and `conversation` (start.py).
        path = ".".join([f"$run.{selector[0]}", *(field_name(key) for key in selector[1:])])
    else:
        path = ".".join(
            [selector_base(selector, variables), *(field_name(key) for key in selector[1:])]
        )
    return f"($exists({path}) ? {path} : null)"


def selector_base(selector: list[str], variables: Variables) -> str:
    """The variable a (non-sys) selector starts from: an iteration's current item inside it, or
    the named node's outputs."""
    head = selector[0]
    if head in variables.iterations and selector[1] in (ITERATION_ITEM, ITERATION_INDEX):
        return variables.item(head)
    return variables.outputs(head)


def text_value(text: str, variables: Variables | None = None) -> str:
    """A text with `{{#node.var#}}` references: a lone reference keeps its value and type; text
    around references makes a string (null reads as empty, objects as JSON)."""
    pieces = split_references(text)
    if len(pieces) == 1 and isinstance(pieces[0], Reference):
        return selector_value(pieces[0].selector, variables)
    if not any(isinstance(piece, Reference) for piece in pieces):
        return literal(text)
    parts = []
    for piece in pieces:
        if isinstance(piece, str):
            parts.append(literal(piece))
        else:
            value = selector_value(piece.selector, variables)
            parts.append(f'($text := {value}; $text = null ? "" : $string($text))')
    return " & ".join(parts)


def inner(value: Any) -> str:
    """A JSONata expression for an ASL field value: the expression inside `{% %}`, or the
    value as a literal."""
    if isinstance(value, str) and value.startswith("{% ") and value.endswith(" %}"):
        return value[3:-3]
    return literal(value)
