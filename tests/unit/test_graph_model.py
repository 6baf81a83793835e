"""The node, edge and workflow models of the native format."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from signoff.graph.model import (
    COMPARISON_OPERATORS,
    CodeNode,
    Edge,
    EndNode,
    IfElseNode,
    InputVariable,
    StartNode,
    TemplateTransformNode,
    parse_node,
)


def test_given_each_node_type_when_parsed_then_the_matching_model_is_built():
    nodes = [
        {"id": "start", "type": "start"},
        {"id": "end", "type": "end", "outputs": [{"variable": "x", "value_selector": ["a", "b"]}]},
        {"id": "c", "type": "code", "code": "def main():\n    return {}"},
        {"id": "t", "type": "template-transform", "template": "Hi"},
        {
            "id": "i",
            "type": "if-else",
            "cases": [
                {
                    "case_id": "yes",
                    "conditions": [
                        {"variable_selector": ["a", "b"], "comparison_operator": "contains"}
                    ],
                }
            ],
        },
    ]
    parsed = [parse_node(node) for node in nodes]
    assert [type(node) for node in parsed] == [
        StartNode,
        EndNode,
        CodeNode,
        TemplateTransformNode,
        IfElseNode,
    ]


def test_given_no_title_then_the_title_is_the_id():
    node = parse_node({"id": "greet", "type": "template-transform", "template": "Hi"})
    assert node.title == "greet"
    titled = parse_node({"id": "greet", "type": "template-transform", "template": "", "title": "G"})
    assert titled.title == "G"


def test_config_is_the_type_specific_fields_only():
    node = parse_node(
        {
            "id": "greet",
            "type": "template-transform",
            "title": "Greet",
            "description": "says hello",
            "position": {"x": 1, "y": 2},
            "template": "Hello, {{ name }}!",
            "variables": [{"variable": "name", "value_selector": ["start", "name"]}],
        }
    )
    assert node.config() == {
        "template": "Hello, {{ name }}!",
        "variables": [{"variable": "name", "value_selector": ["start", "name"]}],
    }


def test_given_the_node_function_payload_when_reparsed_then_the_same_node_comes_back():
    node = parse_node(
        {
            "id": "normalize",
            "type": "code",
            "title": "Normalize",
            "code": "def main(name):\n    return {'name': name}",
            "variables": [{"variable": "name", "value_selector": ["start", "name"]}],
            "outputs": {"name": {"type": "string"}},
        }
    )
    payload_node = {"id": node.id, "type": node.type, "title": node.title, **node.config()}
    assert parse_node(payload_node) == node


def test_given_an_unknown_type_then_parse_node_raises_a_validation_error():
    with pytest.raises(ValidationError):
        parse_node({"id": "ask", "type": "agent"})


def test_given_an_unknown_field_then_the_node_is_rejected():
    with pytest.raises(ValidationError, match="templte"):
        parse_node({"id": "t", "type": "template-transform", "template": "", "templte": "x"})


def test_edges_accept_dify_handle_spellings_and_default_to_source_and_target():
    dify = Edge.model_validate({"source": "a", "target": "b", "sourceHandle": "true"})
    native = Edge.model_validate({"source": "a", "target": "b", "source_handle": "true"})
    plain = Edge.model_validate({"source": "a", "target": "b"})
    assert dify == native
    assert (plain.source_handle, plain.target_handle) == ("source", "target")


@pytest.mark.parametrize(
    "case_ids, problem",
    [(["a", "a"], "used twice"), (["false"], "reserved")],
)
def test_if_else_case_ids_are_distinct_and_not_the_else_handle(case_ids, problem):
    cases = [
        {
            "case_id": case_id,
            "conditions": [{"variable_selector": ["a", "b"], "comparison_operator": "empty"}],
        }
        for case_id in case_ids
    ]
    with pytest.raises(ValidationError, match=problem):
        parse_node({"id": "i", "type": "if-else", "cases": cases})


def test_if_else_handles_are_its_case_ids_then_false():
    node = parse_node(
        {
            "id": "i",
            "type": "if-else",
            "cases": [
                {
                    "case_id": c,
                    "conditions": [
                        {"variable_selector": ["a", "b"], "comparison_operator": "empty"}
                    ],
                }
                for c in ("x", "y")
            ],
        }
    )
    assert node.handles == ["x", "y", "false"]


def test_all_fourteen_dify_operators_are_known():
    assert len(COMPARISON_OPERATORS) == 14


@pytest.mark.parametrize(
    "variables",
    [
        [{"variable": "not an identifier", "value_selector": ["a", "b"]}],
        [{"variable": "class", "value_selector": ["a", "b"]}],
        [
            {"variable": "x", "value_selector": ["a", "b"]},
            {"variable": "x", "value_selector": ["a", "c"]},
        ],
        [{"variable": "x", "value_selector": ["a"]}],
    ],
)
def test_code_arguments_must_be_distinct_identifiers_with_full_selectors(variables):
    with pytest.raises(ValidationError):
        parse_node({"id": "c", "type": "code", "code": "x", "variables": variables})


@pytest.mark.parametrize(
    "data",
    [
        {"variable": "colour", "type": "select"},
        {"variable": "n", "type": "number", "max_length": 3},
        {"variable": "s", "type": "string", "options": ["a"]},
        {"variable": "two words", "type": "string"},
    ],
)
def test_input_variables_reject_settings_that_do_not_fit_their_type(data):
    with pytest.raises(ValidationError):
        InputVariable.model_validate(data)
