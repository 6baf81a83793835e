"""Run inputs checked and coerced against the workflow's declared inputs."""

from __future__ import annotations

import pytest

from signoff.errors import InvalidInput
from signoff.graph import parse_workflow, validate_inputs


def workflow_with(*inputs: dict):
    return parse_workflow(
        {
            "name": "inputs",
            "inputs": list(inputs),
            "nodes": [{"id": "start", "type": "start"}, {"id": "end", "type": "end"}],
            "edges": [{"source": "start", "target": "end"}],
        }
    )


def test_given_optional_inputs_left_out_then_defaults_apply_else_null():
    workflow = workflow_with(
        {"variable": "name", "type": "string", "default": "world"},
        {"variable": "count", "type": "number"},
    )
    assert validate_inputs(workflow, {}) == {"name": "world", "count": None}
    assert validate_inputs(workflow, None) == {"name": "world", "count": None}


@pytest.mark.parametrize("value", [None, ""])
def test_given_a_required_input_missing_then_it_is_rejected_naming_the_field(value):
    workflow = workflow_with({"variable": "name", "type": "string", "required": True})
    with pytest.raises(InvalidInput) as raised:
        validate_inputs(workflow, {"name": value} if value is not None else {})
    assert raised.value.field == "inputs.name"
    assert "required" in raised.value.message


def test_given_unknown_inputs_then_they_are_rejected_by_name():
    workflow = workflow_with({"variable": "name", "type": "string"})
    with pytest.raises(InvalidInput) as raised:
        validate_inputs(workflow, {"name": "Ada", "nmae": "x", "age": 3})
    assert raised.value.message == "unknown inputs: age, nmae"
    assert raised.value.field == "inputs.age"


@pytest.mark.parametrize(
    "declared, given, expected",
    [
        ({"type": "number"}, "42", 42),
        ({"type": "number"}, " 4.5 ", 4.5),
        ({"type": "number"}, 7, 7),
        ({"type": "boolean"}, "True", True),
        ({"type": "boolean"}, False, False),
        ({"type": "paragraph"}, "two\nlines", "two\nlines"),
        ({"type": "select", "options": ["a", "b"]}, "b", "b"),
        ({"type": "object"}, {"k": 1}, {"k": 1}),
        ({"type": "array"}, [1, "x"], [1, "x"]),
    ],
)
def test_given_values_of_the_right_type_then_they_are_coerced(declared, given, expected):
    workflow = workflow_with({"variable": "x", **declared})
    assert validate_inputs(workflow, {"x": given}) == {"x": expected}


@pytest.mark.parametrize(
    "declared, given, problem",
    [
        ({"type": "number"}, "many", "must be a number"),
        ({"type": "number"}, True, "must be a number"),
        ({"type": "number"}, "nan", "finite"),
        ({"type": "string"}, 3, "must be a string"),
        ({"type": "string", "max_length": 3}, "abcd", "longer than 3"),
        ({"type": "select", "options": ["a", "b"]}, "c", "one of 'a', 'b'"),
        ({"type": "boolean"}, "yes", "must be a boolean"),
        ({"type": "object"}, [1], "must be an object"),
        ({"type": "array"}, {"k": 1}, "must be an array"),
    ],
)
def test_given_values_of_the_wrong_type_then_they_are_rejected(declared, given, problem):
    workflow = workflow_with({"variable": "x", **declared})
    with pytest.raises(InvalidInput, match=problem) as raised:
        validate_inputs(workflow, {"x": given})
    assert raised.value.field == "inputs.x"
