"""list-operator in the node function: filter, extract, order and limit, in Dify's order, with
the operators the compiled if-else conditions use."""

from __future__ import annotations

from typing import Any

import pytest

from signoff.graph.model import parse_node
from signoff.nodes import list_operator
from signoff.nodes.errors import InvalidListInput
from signoff.nodes.variables import VariableScope

PEOPLE = [
    {"name": "Ada", "age": 36, "tags": ["math"]},
    {"name": "Bob", "age": 17, "tags": []},
    {"name": "Cy", "age": None, "tags": ["art", "math"]},
    {"name": "Dee", "age": 52, "tags": ["art"]},
]
FILES = [
    {"filename": "a.pdf", "extension": ".pdf", "size": 300, "type": "document"},
    {"filename": "b.png", "extension": ".png", "size": 100, "type": "image"},
]


def operate(items: Any, **fields: Any) -> dict[str, Any]:
    node = parse_node(
        {"id": "ops", "type": "list-operator", "variable": ["src", "items"], **fields}
    )
    scope = VariableScope({"src": {"items": items}, "start": {"n": "2", "min": 18}}, {})
    return list_operator.run(node, list_operator.inputs(node, scope), None)  # type: ignore[arg-type]


def names(outputs: dict[str, Any]) -> list[str]:
    return [item["name"] for item in outputs["result"]]


def test_given_filter_order_and_limit_when_run_then_they_apply_in_dify_s_order():
    outputs = operate(
        PEOPLE,
        filter_by={
            "enabled": True,
            "conditions": [{"key": "age", "comparison_operator": "≥", "value": "{{#start.min#}}"}],
        },
        order_by={"enabled": True, "key": "age", "value": "desc"},
        limit={"enabled": True, "size": 1},
    )

    assert names(outputs) == ["Dee"]
    assert outputs["first_record"] == outputs["last_record"] == PEOPLE[3]


def test_given_extract_by_a_referenced_serial_then_one_element_remains():
    outputs = operate(PEOPLE, extract_by={"enabled": True, "serial": "{{#start.n#}}"})

    assert names(outputs) == ["Bob"]


def test_given_a_serial_past_the_end_then_the_result_is_empty():
    outputs = operate(PEOPLE, extract_by={"enabled": True, "serial": "9"})

    assert outputs == {"result": [], "first_record": None, "last_record": None}


def test_given_a_serial_below_one_then_the_input_is_invalid():
    with pytest.raises(InvalidListInput, match="serial"):
        operate(PEOPLE, extract_by={"enabled": True, "serial": "0"})


def test_given_order_by_a_key_some_elements_lack_then_they_go_last():
    outputs = operate(PEOPLE, order_by={"enabled": True, "key": "age", "value": "asc"})

    assert names(outputs) == ["Bob", "Ada", "Dee", "Cy"]


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"key": "name", "comparison_operator": "start with", "value": "D"}, ["Dee"]),
        ({"key": "name", "comparison_operator": "end with", "value": "a"}, ["Ada"]),
        ({"key": "name", "comparison_operator": "is", "value": "Cy"}, ["Cy"]),
        ({"key": "name", "comparison_operator": "is not", "value": "Cy"}, ["Ada", "Bob", "Dee"]),
        ({"key": "tags", "comparison_operator": "contains", "value": "art"}, ["Cy", "Dee"]),
        ({"key": "tags", "comparison_operator": "not contains", "value": "art"}, ["Ada", "Bob"]),
        ({"key": "tags", "comparison_operator": "empty"}, ["Bob"]),
        ({"key": "tags", "comparison_operator": "all of", "value": ["art", "math"]}, ["Cy"]),
        ({"key": "age", "comparison_operator": "exists"}, ["Ada", "Bob", "Dee"]),
        ({"key": "age", "comparison_operator": "not exists"}, ["Cy"]),
        ({"key": "age", "comparison_operator": "<", "value": "36"}, ["Bob"]),
        ({"key": "age", "comparison_operator": "=", "value": 36}, ["Ada"]),
        ({"key": "age", "comparison_operator": "≠", "value": "36"}, ["Bob", "Dee"]),
        ({"key": "name", "comparison_operator": "in", "value": ["Ada", "Cy"]}, ["Ada", "Cy"]),
        ({"key": "name", "comparison_operator": "not in", "value": ["Ada"]}, ["Bob", "Cy", "Dee"]),
        ({"key": "age", "comparison_operator": ">", "value": "not a number"}, []),
    ],
)
def test_given_each_filter_operator_then_it_tests_as_the_compiled_conditions_do(
    condition, expected
):
    outputs = operate(PEOPLE, filter_by={"enabled": True, "conditions": [condition]})

    assert names(outputs) == expected


def test_given_plain_strings_then_conditions_test_the_elements_themselves():
    outputs = operate(
        ["apple", "", "banana", "cherry"],
        filter_by={
            "enabled": True,
            "conditions": [
                {"comparison_operator": "not empty"},
                {"comparison_operator": "contains", "value": "an"},
            ],
        },
    )

    assert outputs["result"] == ["banana"]


def test_given_files_then_dify_s_attribute_names_reach_their_keys():
    outputs = operate(
        FILES,
        filter_by={
            "enabled": True,
            "conditions": [{"key": "name", "comparison_operator": "end with", "value": ".pdf"}],
        },
    )

    assert outputs["result"] == [FILES[0]]


def test_given_a_missing_list_then_the_result_is_empty():
    assert operate(None)["result"] == []


def test_given_something_other_than_a_list_then_the_input_is_invalid():
    with pytest.raises(InvalidListInput, match="not a list"):
        operate("text")


def test_given_elements_of_mixed_types_when_ordered_then_the_input_is_invalid():
    with pytest.raises(InvalidListInput, match="cannot be ordered"):
        operate([1, "two"], order_by={"enabled": True, "value": "asc"})
