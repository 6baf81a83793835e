"""if-else conditions compile to JSONata with Dify's semantics (evaluated with jsonata-python)."""

from __future__ import annotations

import json
from typing import Any

import jsonata
import pytest

from signoff.compiler.lowering.operators import case_expression, condition_expression
from signoff.graph.model import Case, Condition


class _Missing:
    """A variable the run never set (not null: absent)."""

    def __repr__(self) -> str:
        # A fixed spelling keeps test ids the same in every process (pytest-xdist compares them).
        return "MISSING"


MISSING = _Missing()
RUN = {"run_id": "r-1", "user": "ada", "workflow_id": "w-1"}


def evaluate(expression: str, variables: dict[str, Any]) -> Any:
    # Bind workflow variables the way Step Functions does: as variables around the expression.
    bindings = "".join(f"${name} := {json.dumps(value)}; " for name, value in variables.items())
    return jsonata.Jsonata(f"({bindings}{expression})").evaluate(None)


def check(operator: str, actual: Any, expected: Any = "") -> bool:
    outputs = {} if actual is MISSING else {"v": actual}
    condition = Condition(
        variable_selector=["x", "v"], comparison_operator=operator, value=expected
    )
    return evaluate(condition_expression(condition), {"n_x": outputs, "run": RUN})


CASES = [
    ("contains", "hello world", "world", True),
    ("contains", "hello", "z", False),
    ("contains", ["a", "b"], "b", True),
    ("contains", ["ab"], "a", False),
    ("contains", [], "a", False),
    ("contains", None, "a", False),
    ("contains", "", "", False),
    ("contains", MISSING, "a", False),
    ("not contains", "hello", "z", True),
    ("not contains", "hello", "ell", False),
    ("not contains", None, "a", True),
    ("not contains", ["a"], "a", False),
    ("start with", "hello", "he", True),
    ("start with", "hello", "lo", False),
    ("start with", None, "h", False),
    ("start with", "", "", False),
    ("end with", "hello", "lo", True),
    ("end with", "lo", "hello", False),
    ("end with", "hello", "", True),
    ("end with", 5, "5", False),
    ("is", "a", "a", True),
    ("is", "a", "b", False),
    ("is", None, "", False),
    ("is", True, "true", True),
    ("is", False, "true", False),
    ("is not", "a", "b", True),
    ("is not", "a", "a", False),
    ("is not", None, "x", False),
    ("is not", True, "false", True),
    ("empty", None, "", True),
    ("empty", MISSING, "", True),
    ("empty", "", "", True),
    ("empty", [], "", True),
    ("empty", {}, "", True),
    ("empty", "x", "", False),
    ("empty", 0, "", False),
    ("empty", [0], "", False),
    ("not empty", "x", "", True),
    ("not empty", {"k": None}, "", True),
    ("not empty", None, "", False),
    ("not empty", "", "", False),
    ("=", 3, "3", True),
    ("=", 3.5, "3.5", True),
    ("=", 3, "4", False),
    ("=", None, "3", False),
    ("=", "abc", "3", False),
    ("=", True, "1", True),
    ("=", 2, 2, True),
    ("≠", 3, "4", True),
    ("≠", 3, "3", False),
    ("≠", None, "3", False),
    ("≠", "abc", "3", False),
    (">", 5, "3", True),
    (">", 3, "3", False),
    (">", "10", "9", True),
    (">", None, "1", False),
    (">", "x", "1", False),
    (">", 5, "lots", False),
    ("<", 2, " 3 ", True),
    ("<", 3, "3", False),
    ("≥", 3, "3", True),
    ("≥", 2.5, "3", False),
    ("≤", 3, "3", True),
    ("≤", 4, "3e0", False),
]


@pytest.mark.parametrize(
    "operator, actual, expected, result",
    CASES,
    ids=[f"{c[0]}|{c[1]!r}|{c[2]!r}" for c in CASES],
)
def test_operators_follow_difys_semantics(operator, actual, expected, result):
    assert check(operator, actual, expected) is result


def test_every_operator_is_covered():
    from signoff.graph.model import COMPARISON_OPERATORS

    assert {case[0] for case in CASES} == set(COMPARISON_OPERATORS)


@pytest.mark.parametrize(
    "text",
    [
        'say "hi"',
        "back\\slash\\",
        "two\nlines\tand\r\n",
        "{% raw %}100%}",
        "line\u2028separator and é ✓",
        "'single' and `tick`",
        "",
    ],
)
def test_condition_values_are_escaped_as_jsonata_string_literals(text):
    condition = Condition(variable_selector=["x", "v"], comparison_operator="is", value=text)
    expression = condition_expression(condition)
    assert "\n" not in expression
    assert evaluate(expression, {"n_x": {"v": text}}) is True
    assert evaluate(expression, {"n_x": {"v": text + "!"}}) is False


def test_a_lone_reference_compiles_to_the_referenced_value_with_its_type():
    condition = Condition(
        variable_selector=["x", "v"], comparison_operator=">", value="{{#limits.max#}}"
    )
    expression = condition_expression(condition)
    assert evaluate(expression, {"n_x": {"v": 11}, "n_limits": {"max": 10}}) is True
    assert evaluate(expression, {"n_x": {"v": 9}, "n_limits": {"max": 10}}) is False


def test_references_inside_text_compile_to_a_string_with_null_as_empty():
    condition = Condition(
        variable_selector=["x", "v"],
        comparison_operator="is",
        value='{{#p.first#}} "{{#p.last#}}" by {{#sys.user#}}',
    )
    expression = condition_expression(condition)
    people = {"first": "Ada", "last": None}
    assert evaluate(expression, {"n_x": {"v": 'Ada "" by ada'}, "n_p": people, "run": RUN})


def test_selector_keys_that_are_not_identifiers_are_quoted():
    for key in ("my key", "in", "a-b", "with`tick"):
        condition = Condition(variable_selector=["x", key], comparison_operator="is", value="y")
        assert evaluate(condition_expression(condition), {"n_x": {key: "y"}}) is True


def test_deeper_selectors_read_nested_attributes():
    condition = Condition(
        variable_selector=["x", "profile", "city"], comparison_operator="is", value="London"
    )
    assert evaluate(condition_expression(condition), {"n_x": {"profile": {"city": "London"}}})
    assert evaluate(condition_expression(condition), {"n_x": {"profile": None}}) is False


@pytest.mark.parametrize(
    "logical_operator, values, result",
    [("and", ("a", "b"), False), ("and", ("a", "a"), True), ("or", ("b", "a"), True)],
)
def test_cases_join_their_conditions(logical_operator, values, result):
    case = Case(
        case_id="c",
        logical_operator=logical_operator,
        conditions=[
            Condition(variable_selector=["x", "v"], comparison_operator="is", value=value)
            for value in values
        ],
    )
    assert evaluate(case_expression(case), {"n_x": {"v": "a"}}) is result
