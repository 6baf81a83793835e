"""Resolving selectors against the variables a node's Task hands it."""

from __future__ import annotations

import pytest

from signoff.graph.model import VariableSelector
from signoff.nodes.errors import VariableNotFound
from signoff.nodes.variables import VariableScope

RUN = {"run_id": "run-1", "tenant_id": "t", "workflow_id": "hello", "user": "ada"}


def scope(variables: dict) -> VariableScope:
    return VariableScope(variables, RUN)


def test_given_an_upstream_output_when_resolved_then_its_value_is_returned():
    assert scope({"start": {"name": "Ada"}}).resolve(["start", "name"]) == "Ada"


@pytest.mark.parametrize(
    ("name", "expected"), [("user", "ada"), ("run_id", "run-1"), ("workflow_id", "hello")]
)
def test_given_a_sys_selector_when_resolved_then_it_reads_the_run_context(name, expected):
    assert scope({}).resolve(["sys", name]) == expected


def test_given_an_unknown_sys_variable_when_resolved_then_it_is_not_found_and_named():
    with pytest.raises(VariableNotFound, match=r"sys\.tenant_id") as caught:
        scope({}).resolve(["sys", "tenant_id"])
    assert caught.value.selector == ["sys", "tenant_id"]


def test_given_a_node_the_event_does_not_hold_when_resolved_then_it_is_not_found_and_named():
    with pytest.raises(VariableNotFound, match=r"variable ghost\.name not found.*node ghost"):
        scope({"start": {"name": "Ada"}}).resolve(["ghost", "name"])


def test_given_an_output_the_node_lacks_when_resolved_then_it_is_not_found_and_named():
    with pytest.raises(VariableNotFound, match=r"start\.age.*no output age"):
        scope({"start": {"name": "Ada"}}).resolve(["start", "age"])


def test_given_a_skipped_node_when_resolved_then_its_variables_are_null():
    assert scope({"branch": None}).resolve(["branch", "anything"]) is None


def test_given_an_attribute_path_when_resolved_then_it_walks_into_objects():
    variables = {"fetch": {"body": {"user": {"name": "Ada"}}}}

    assert scope(variables).resolve(["fetch", "body", "user", "name"]) == "Ada"
    assert scope(variables).resolve(["fetch", "body", "missing", "name"]) is None


def test_given_bindings_when_bound_then_each_variable_gets_its_selectors_value():
    bindings = [
        VariableSelector(variable="who", value_selector=["start", "name"]),
        VariableSelector(variable="by", value_selector=["sys", "user"]),
    ]

    assert scope({"start": {"name": "Ada"}}).bind(bindings) == {"who": "Ada", "by": "ada"}
