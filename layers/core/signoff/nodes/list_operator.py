"""list-operator, where it runs in the node function: filter, extract, order and limit a list.

In Dify's order: `filter_by` keeps the elements every condition holds for (on the element, or on
its `key` attribute for objects and files); `extract_by` keeps the one element at `serial`
(1-based; may hold a `{{#node.var#}}` reference); `order_by` sorts (by `key` for objects and
files) ascending or descending; `limit` keeps the first `size`. Outputs `result`, `first_record`
and `last_record` (null for an empty result).

The operators test as the compiled if-else conditions do (compiler/lowering/operators.py), so a
list filtered here and one filtered by a native state agree.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from signoff.graph.model import ListOperatorNode
from signoff.graph.selectors import render_references
from signoff.nodes.context import NodeContext
from signoff.nodes.errors import InvalidListInput
from signoff.nodes.llm_prompt import reference_key, referenced_values
from signoff.nodes.variables import VariableScope

_NUMBER_TEXT = re.compile(r"^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$")
# A file's attributes as Dify's list operator names them -> the file object's keys.
_FILE_KEYS = {"name": "filename", "size": "size", "extension": "extension"}
_MISSING = object()


def inputs(node: ListOperatorNode, scope: VariableScope) -> dict[str, Any]:
    return {"variable": scope.resolve(node.variable), **referenced_values(node.texts(), scope)}


def run(node: ListOperatorNode, inputs: dict[str, Any], context: NodeContext) -> dict[str, Any]:
    items = inputs["variable"]
    if items is None:
        items = []
    if not isinstance(items, list):
        raise InvalidListInput(f"the list operator's input is not a list: {type(items).__name__}")

    def render(text: Any) -> Any:
        if not isinstance(text, str):
            return text
        return render_references(text, lambda selector: inputs.get(reference_key(selector)))

    if node.filter_by.enabled and node.filter_by.conditions:
        conditions = [(c, render(c.value)) for c in node.filter_by.conditions]
        items = [
            item
            for item in items
            if all(
                holds(condition.comparison_operator, attribute(item, condition.key), expected)
                for condition, expected in conditions
            )
        ]
    if node.extract_by.enabled:
        items = _extract(items, render(node.extract_by.serial))
    if node.order_by.enabled:
        items = _ordered(items, node.order_by.key, descending=node.order_by.value == "desc")
    if node.limit.enabled:
        items = items[: node.limit.size]
    return {
        "result": items,
        "first_record": items[0] if items else None,
        "last_record": items[-1] if items else None,
    }


def attribute(item: Any, key: str) -> Any:
    """The element itself, or its `key` attribute (an object's key, a file's name/size/...)."""
    if not key:
        return item
    if not isinstance(item, dict):
        return None
    value = item.get(key, _MISSING)
    if value is _MISSING:
        value = item.get(_FILE_KEYS.get(key, key))
    return value


def holds(operator: str, actual: Any, expected: Any) -> bool:
    """Whether `actual` passes Dify's `operator` test against `expected`; never raises."""
    test = _TESTS.get(operator)
    if test is None:
        raise InvalidListInput(f"unknown filter operator {operator!r}")
    return test(actual, expected)


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and _NUMBER_TEXT.match(value.strip()):
        return float(value.strip())
    return None


def _as_boolean(expected: Any) -> bool:
    return expected in (True, "true", 1, "1")


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _contains(actual: Any, expected: Any) -> bool:
    if isinstance(actual, str) and actual:
        return _text(expected) in actual
    if isinstance(actual, list):
        return expected in actual
    return False


def _equals(actual: Any, expected: Any) -> bool:
    if isinstance(actual, bool):
        return actual == _as_boolean(expected)
    return actual == expected


def _numeric(compare: Callable[[float, float], bool]) -> Callable[[Any, Any], bool]:
    def test(actual: Any, expected: Any) -> bool:
        a, b = _as_number(actual), _as_number(expected)
        return a is not None and b is not None and compare(a, b)

    return test


def _numeric_equality(negate: bool) -> Callable[[Any, Any], bool]:
    def test(actual: Any, expected: Any) -> bool:
        if isinstance(actual, bool):
            return (actual == _as_boolean(expected)) != negate
        a, b = _as_number(actual), _as_number(expected)
        return a is not None and b is not None and ((a == b) != negate)

    return test


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _in(actual: Any, expected: Any) -> bool:
    return actual in expected if isinstance(expected, list) else actual == expected


def _all_of(actual: Any, expected: Any) -> bool:
    return (
        isinstance(actual, list)
        and isinstance(expected, list)
        and all(item in actual for item in expected)
    )


_TESTS: dict[str, Callable[[Any, Any], bool]] = {
    "contains": _contains,
    "not contains": lambda a, e: not _contains(a, e),
    "start with": lambda a, e: isinstance(a, str) and a != "" and a.startswith(_text(e)),
    "end with": lambda a, e: isinstance(a, str) and a != "" and a.endswith(_text(e)),
    "is": lambda a, e: a is not None and _equals(a, e),
    "is not": lambda a, e: a is not None and not _equals(a, e),
    "empty": lambda a, e: _is_empty(a),
    "not empty": lambda a, e: not _is_empty(a),
    "=": _numeric_equality(negate=False),
    "≠": _numeric_equality(negate=True),
    ">": _numeric(lambda a, b: a > b),
    "<": _numeric(lambda a, b: a < b),
    "≥": _numeric(lambda a, b: a >= b),
    "≤": _numeric(lambda a, b: a <= b),
    "in": _in,
    "not in": lambda a, e: not _in(a, e),
    "all of": _all_of,
    "exists": lambda a, e: a is not None,
    "not exists": lambda a, e: a is None,
}


def _extract(items: list[Any], serial: Any) -> list[Any]:
    position = _as_number(serial)
    if position is None or position != int(position) or position < 1:
        raise InvalidListInput(f"extract_by serial must be a whole number from 1, not {serial!r}")
    index = int(position) - 1
    return [items[index]] if index < len(items) else []


def _ordered(items: Sequence[Any], key: str, *, descending: bool) -> list[Any]:
    present = [item for item in items if attribute(item, key) is not None]
    missing = [item for item in items if attribute(item, key) is None]
    try:
        ordered = sorted(present, key=lambda item: attribute(item, key), reverse=descending)
    except TypeError as error:
        raise InvalidListInput(
            f"the list cannot be ordered by {key or 'its elements'}: {error}"
        ) from error
    # Elements without the key go last either way.
    return ordered + missing
