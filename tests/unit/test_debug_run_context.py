"""The run context of a single-node (debug) run: the workflow's env (secret placeholders) and
conversation variables, as a run's Init sets them (compiler/lowering/start.py)."""

from __future__ import annotations

from typing import Any

import pytest

from signoff.errors import InvalidInput
from signoff.graph import parse_workflow
from signoff.reviews.debug import node_variables, run_variables


def workflow(**declared: Any) -> Any:
    return parse_workflow(
        {
            "name": "context",
            "nodes": [
                {"id": "start", "type": "start"},
                {"id": "end", "type": "end", "outputs": []},
            ],
            "edges": [{"source": "start", "target": "end"}],
            **declared,
        }
    )


DECLARED = {
    "environment_variables": [
        {"name": "team", "value": "ops"},
        {"name": "limit", "value_type": "number", "value": 3},
        {"name": "api_key", "value_type": "secret"},
    ],
    "conversation_variables": [
        {"name": "seen", "value_type": "array[string]", "value": ["a"]},
        {"name": "visits", "value_type": "number", "value": 0},
    ],
}


def test_given_declared_variables_then_env_holds_values_and_secret_placeholders():
    given = node_variables({"#start.name#": "Ada"})

    context = run_variables(workflow(**DECLARED), given)

    assert context == {
        "env": {"team": "ops", "limit": 3, "api_key": {"$signoff_secret": "api_key"}},
        "conversation": {"seen": ["a"], "visits": 0},
    }
    assert given == {"start": {"name": "Ada"}}


def test_given_conversation_values_then_they_replace_the_defaults_and_leave_the_variables():
    given = node_variables({"#conversation.visits#": 4, "start": {"name": "Ada"}})

    context = run_variables(workflow(**DECLARED), given)

    assert context["conversation"] == {"seen": ["a"], "visits": 4}
    assert given == {"start": {"name": "Ada"}}


def test_given_a_workflow_without_variables_then_the_context_adds_nothing():
    assert run_variables(workflow(), {"start": {"name": "Ada"}}) == {}


@pytest.mark.parametrize(
    "inputs",
    [{"#env.team#": "sales"}, {"env": {"team": "sales"}}, {"#conversation.unknown#": 1}],
    ids=["flat env", "env object", "undeclared conversation variable"],
)
def test_given_env_values_or_an_undeclared_conversation_variable_then_invalid(inputs):
    with pytest.raises(InvalidInput):
        run_variables(workflow(**DECLARED), node_variables(inputs))
