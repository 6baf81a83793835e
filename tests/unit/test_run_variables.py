"""env.* and conversation.* variables: validation of the names a workflow declares, the run
context the compiled Init makes of them, assigners writing conversation variables, and the node
function resolving them."""

from __future__ import annotations

import json
from typing import Any

import jsonata
import pytest

from signoff.compiler.compile import compile_workflow
from signoff.compiler.lowering.start import run_expression
from signoff.compiler.target import CompileTarget
from signoff.errors import GraphInvalid
from signoff.graph import parse_workflow
from signoff.graph.model import Workflow
from signoff.nodes.errors import VariableNotFound
from signoff.nodes.variables import VariableScope

TARGET = CompileTarget(
    "arn:aws:lambda:us-east-1:1:function:node", "arn:aws:lambda:us-east-1:1:function:settle"
)
ENVIRONMENT = [
    {"name": "team", "value_type": "string", "value": "Support"},
    {"name": "token", "value_type": "secret"},
]
CONVERSATION = [
    {"name": "visits", "value_type": "number", "value": 0},
    {"name": "names", "value_type": "array[string]", "value": []},
]


def workflow(**spec: Any) -> Workflow:
    return parse_workflow(document(**spec))


def document(
    *, template: str, selector: list[str], items: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """start -> show (template reading `selector`) -> [remember (assigner items)] -> end."""
    nodes: list[dict[str, Any]] = [
        {"id": "start", "type": "start"},
        {
            "id": "show",
            "type": "template-transform",
            "template": template,
            "variables": [{"variable": "v", "value_selector": selector}],
        },
    ]
    edges = [{"source": "start", "target": "show"}]
    last = "show"
    if items is not None:
        nodes.append({"id": "remember", "type": "assigner", "items": items})
        edges.append({"source": "show", "target": "remember"})
        last = "remember"
    nodes.append(
        {"id": "end", "type": "end", "outputs": [{"variable": "v", "value_selector": selector}]}
    )
    edges.append({"source": last, "target": "end"})
    return {
        "name": "vars",
        "inputs": [{"variable": "name", "type": "string"}],
        "environment_variables": ENVIRONMENT,
        "conversation_variables": CONVERSATION,
        "nodes": nodes,
        "edges": edges,
    }


def problems(spec: dict[str, Any]) -> list[tuple[str, str | None, str]]:
    try:
        parse_workflow(spec)
    except GraphInvalid as invalid:
        return [(found.code, found.node_id, found.message) for found in invalid.issues]
    return []


def test_given_declared_env_and_conversation_names_then_selectors_and_references_validate():
    spec = document(template="{{ v }}", selector=["conversation", "visits"])

    assert problems(spec) == []


@pytest.mark.parametrize(
    ("selector", "template", "expected"),
    [
        (["env", "nobody"], "{{ v }}", "no environment variable"),
        (["conversation", "nothing"], "{{ v }}", "no conversation variable"),
    ],
)
def test_given_an_undeclared_name_then_it_is_a_bad_selector_of_the_reading_node(
    selector, template, expected
):
    found = problems(document(template=template, selector=selector))

    assert any(
        code == "bad_selector" and node_id == "show" and expected in message
        for code, node_id, message in found
    ), found


def test_given_an_assigner_writing_an_undeclared_conversation_variable_then_it_is_named():
    items = [{"variable_selector": ["conversation", "gone"], "operation": "set", "value": 1}]

    found = problems(document(template="x", selector=["env", "team"], items=items))

    assert [(code, node_id) for code, node_id, _ in found] == [("invalid_assignment", "remember")]


def test_given_a_run_context_then_init_adds_env_with_secret_placeholders_and_the_conversation():
    expression = run_expression(workflow(template="x", selector=["env", "team"]))
    given = {"run": {"run_id": "r", "conversation": {"visits": 4, "stray": 1}}}

    run = jsonata.Jsonata(expression.replace("$states.input", "$input")).evaluate(
        None, _bindings(input=given)
    )

    assert run == {
        "run_id": "r",
        "env": {"team": "Support", "token": {"$signoff_secret": "token"}},
        "conversation": {"visits": 4, "names": []},
    }


def test_given_no_session_then_init_starts_the_conversation_from_the_declared_values():
    expression = run_expression(workflow(template="x", selector=["env", "team"]))

    run = jsonata.Jsonata(expression.replace("$states.input", "$input")).evaluate(
        None, _bindings(input={"run": {"run_id": "r"}})
    )

    assert run["conversation"] == {"visits": 0, "names": []}


def test_given_an_assigner_on_conversation_variables_then_its_pass_updates_run_conversation():
    items = [
        {"variable_selector": ["conversation", "visits"], "operation": "+=", "value": 2},
        {
            "variable_selector": ["conversation", "names"],
            "input_type": "variable",
            "operation": "append",
            "value": ["start", "name"],
        },
    ]
    definition = compile_workflow(
        workflow(template="x", selector=["conversation", "visits"], items=items), TARGET
    )
    assign = definition["States"]["remember"]["Assign"]["run"]
    run = {"run_id": "r", "conversation": {"visits": 1, "names": ["Ada"]}}

    updated = jsonata.Jsonata(assign.removeprefix("{% ").removesuffix(" %}")).evaluate(
        None, _bindings(run=run, n_start={"name": "Bo"})
    )

    assert updated == {"run_id": "r", "conversation": {"visits": 3, "names": ["Ada", "Bo"]}}
    end_reads = json.dumps(definition["States"]["end"])
    assert "$run.conversation.visits" in end_reads


def test_given_a_run_context_then_the_node_function_resolves_env_and_conversation():
    scope = VariableScope({}, {"env": {"team": "S"}, "conversation": {"profile": {"age": 3}}})

    assert scope.resolve(["env", "team"]) == "S"
    assert scope.resolve(["conversation", "profile", "age"]) == 3
    with pytest.raises(VariableNotFound):
        scope.resolve(["conversation", "missing"])


def _bindings(**values: Any) -> dict[str, Any]:
    """`$name` bindings, as the state machine's variables are bound."""
    return values
