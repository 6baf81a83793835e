"""Dify's if-else comparison operators as JSONata conditions.

Each condition is a block binding `$v` (the selected value; null when missing or its node was
skipped) and `$e` (the expected value), then testing them as Dify's condition processor does:
- contains / not contains: substring of a string, or member of an array; an empty or missing
  value contains nothing;
- start with / end with: on strings; an empty or missing value matches nothing;
- is / is not: equality (a boolean value compares with the expected value read as a boolean:
  true, "true", 1 or "1"); a missing value is neither `is` nor `is not` anything;
- empty / not empty: empty is null, "", [] or {};
- = ≠ > < ≥ ≤: numbers (a boolean value compares as a boolean for = and ≠); a missing value
  satisfies none of them.

A Choice state cannot catch an error, so no test may raise one: where Dify would fail the run
(a value that is not a number for `>`, say), the condition is false instead.
"""

from __future__ import annotations

from typing import Any

from signoff.compiler.jsonata import literal, selector_value, text_value
from signoff.compiler.variables import Variables
from signoff.graph.model import Case, Condition

_AS_BOOLEAN = '($e = true or $e = "true" or $e = 1 or $e = "1")'
_IS_EMPTY = (
    '($v = null or $v = "" or ($type($v) = "array" and $count($v) = 0)'
    ' or ($type($v) = "object" and $count($keys($v)) = 0))'
)
_CONTAINS = (
    '(($type($v) = "string" and $v != "") ? $contains($v, $string($e))'
    ' : $type($v) = "array" ? ($e in $v) : false)'
)
# A JSON number, the only text $number converts without raising an error.
_NUMBER_TEXT = r"/^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$/"


def _as_number(variable: str) -> str:
    """The variable as a number: numbers as they are, numeric text converted, anything else null."""
    return (
        f'($type({variable}) = "number" ? {variable}'
        f' : ($type({variable}) = "string" and $contains($trim({variable}), {_NUMBER_TEXT}))'
        f" ? $number($trim({variable})) : null)"
    )


_NUMBERS = f"$a := {_as_number('$v')}; $b := {_as_number('$e')}; "
_BOTH_NUMBERS = "$a != null and $b != null"

_STRING_TESTS: dict[str, str] = {
    "contains": _CONTAINS,
    "not contains": f"$not{_CONTAINS}",
    "start with": (
        '$type($v) = "string" and $v != ""'
        " and $substring($v, 0, $length($string($e))) = $string($e)"
    ),
    "end with": (
        '$type($v) = "string" and $v != ""'
        " and $substring($v, $length($v) - $length($string($e))) = $string($e)"
    ),
    "is": f'$v != null and ($type($v) = "boolean" ? $v = {_AS_BOOLEAN} : $v = $e)',
    "is not": f'$v != null and ($type($v) = "boolean" ? $v != {_AS_BOOLEAN} : $v != $e)',
}
_UNARY_TESTS: dict[str, str] = {"empty": _IS_EMPTY, "not empty": f"$not{_IS_EMPTY}"}
_NUMERIC_TESTS: dict[str, str] = {
    "=": f'$type($v) = "boolean" ? $v = {_AS_BOOLEAN} : ({_BOTH_NUMBERS} and $a = $b)',
    "≠": f'$type($v) = "boolean" ? $v != {_AS_BOOLEAN} : ({_BOTH_NUMBERS} and $a != $b)',
    ">": f"{_BOTH_NUMBERS} and $a > $b",
    "<": f"{_BOTH_NUMBERS} and $a < $b",
    "≥": f"{_BOTH_NUMBERS} and $a >= $b",
    "≤": f"{_BOTH_NUMBERS} and $a <= $b",
}
OPERATORS = frozenset(_STRING_TESTS) | frozenset(_UNARY_TESTS) | frozenset(_NUMERIC_TESTS)


_LIST_TESTS: dict[str, str] = {
    # A list-operator filter's extra tests (on each element, or an attribute of it).
    "in": '$type($e) = "array" ? ($v in $e) : $v = $e',
    "not in": '$type($e) = "array" ? $not($v in $e) : $v != $e',
    "all of": (
        '$type($v) = "array" and $type($e) = "array"'
        " and $count($filter($e, function($x) { $not($x in $v) })) = 0"
    ),
    "exists": "$v != null",
    "not exists": "$v = null",
}
FILTER_OPERATORS = OPERATORS | frozenset(_LIST_TESTS)


def test_expression(actual: str, operator: str, expected: str) -> str:
    """A test of an actual value (a JSONata expression) by a Dify operator against an expected
    value (a JSONata expression; ignored by the unary operators)."""
    if operator in _UNARY_TESTS:
        return f"($v := {actual}; {_UNARY_TESTS[operator]})"
    if operator in ("exists", "not exists"):
        return f"($v := {actual}; {_LIST_TESTS[operator]})"
    if operator in _NUMERIC_TESTS:
        test = _NUMERIC_TESTS[operator]
        return f"($v := {actual}; $e := {expected}; {_NUMBERS}{test})"
    tests = _STRING_TESTS if operator in _STRING_TESTS else _LIST_TESTS
    return f"($v := {actual}; $e := {expected}; {tests[operator]})"


def expected_value(value: Any, variables: Variables | None = None) -> str:
    """A condition's value: text with references, or a literal."""
    return text_value(value, variables) if isinstance(value, str) else literal(value)


def condition_expression(condition: Condition, variables: Variables | None = None) -> str:
    """One condition as a JSONata boolean expression."""
    actual = selector_value(condition.variable_selector, variables)
    expected = expected_value(condition.value, variables)
    return test_expression(actual, condition.comparison_operator, expected)


def conditions_expression(
    conditions: list[Condition], logical_operator: str, variables: Variables | None = None
) -> str:
    """Conditions joined by `and` / `or`."""
    return f" {logical_operator} ".join(
        f"({condition_expression(condition, variables)})" for condition in conditions
    )


def case_expression(case: Case, variables: Variables | None = None) -> str:
    """A case: its conditions joined by its logical operator."""
    return f" {case.logical_operator} ".join(
        condition_expression(condition, variables) for condition in case.conditions
    )
