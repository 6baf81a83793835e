"""Secret environment variables: where validation lets nodes read them, what the compiled Init
carries (a placeholder, never a value), how the node function resolves and redacts them."""

from __future__ import annotations

import json
from typing import Any

import pytest

from signoff.compiler.compile import compile_workflow
from signoff.compiler.target import CompileTarget
from signoff.errors import GraphInvalid
from signoff.graph import parse_workflow
from signoff.nodes.errors import SecretNotSet
from signoff.nodes.secrets import placeholder_name
from signoff.nodes.variables import VariableScope
from signoff.redaction import REDACTED, redact, redact_values, remember_secret_values
from signoff.store.workflow_secrets import secret_id, tenant_hash

TARGET = CompileTarget(
    "arn:aws:lambda:us-east-1:1:function:node", "arn:aws:lambda:us-east-1:1:function:settle"
)
SECRETS = [{"name": "api_key", "value_type": "secret"}, {"name": "team", "value": "Ops"}]


def document(reader: dict[str, Any], *, environment: list[dict[str, Any]] = SECRETS) -> dict:
    """start -> <reader> -> end."""
    return {
        "name": "secrets",
        "environment_variables": environment,
        "nodes": [
            {"id": "start", "type": "start"},
            reader,
            {"id": "end", "type": "end", "outputs": []},
        ],
        "edges": [
            {"source": "start", "target": reader["id"]},
            {"source": reader["id"], "target": "end"},
        ],
    }


def issues_of(spec: dict[str, Any]) -> list[tuple[str, str | None]]:
    try:
        parse_workflow(spec)
    except GraphInvalid as invalid:
        return [(found.code, found.node_id) for found in invalid.issues]
    return []


CODE_READER = {
    "id": "call",
    "type": "code",
    "code": "def main(key):\n    return {'n': len(key)}",
    "variables": [{"variable": "key", "value_selector": ["env", "api_key"]}],
    "outputs": {"n": {"type": "number"}},
}


def test_given_a_code_node_reading_a_secret_then_the_workflow_validates():
    assert issues_of(document(CODE_READER)) == []


def test_given_an_http_header_referencing_a_secret_then_the_workflow_validates():
    reader = {
        "id": "call",
        "type": "http-request",
        "method": "get",
        "url": "https://api.example.com/x",
        "headers": "X-Key:{{#env.api_key#}}",
    }

    assert issues_of(document(reader)) == []


@pytest.mark.parametrize(
    "reader",
    [
        {
            "id": "gate",
            "type": "if-else",
            "cases": [
                {
                    "case_id": "yes",
                    "logical_operator": "and",
                    "conditions": [
                        {
                            "variable_selector": ["env", "api_key"],
                            "comparison_operator": "not empty",
                        }
                    ],
                }
            ],
        },
        {
            "id": "pick",
            "type": "variable-aggregator",
            "variables": [["env", "api_key"]],
            "output_type": "string",
        },
    ],
    ids=["if-else", "aggregator"],
)
def test_given_a_native_state_reading_a_secret_then_it_is_refused_naming_the_node(reader):
    found = issues_of(document(reader))

    assert (("secret_not_readable_here", reader["id"])) in found


def test_given_an_end_node_outputting_a_secret_then_it_is_refused():
    spec = document(CODE_READER)
    spec["nodes"][-1]["outputs"] = [{"variable": "k", "value_selector": ["env", "api_key"]}]

    assert issues_of(spec) == [("secret_not_readable_here", "end")]


def test_given_a_secret_with_its_value_in_the_document_then_it_is_refused():
    environment = [{"name": "api_key", "value_type": "secret", "value": "sk-live"}]

    assert issues_of(document(CODE_READER, environment=environment)) == [
        ("secret_value_in_graph", None)
    ]


def test_given_a_secret_then_init_carries_its_placeholder_and_never_a_value():
    definition = compile_workflow(parse_workflow(document(CODE_READER)), TARGET)

    init = json.dumps(definition["States"]["Init"])
    assert '"api_key": {"$signoff_secret": "api_key"}' in init.replace('\\"', '"')
    assert '"team": "Ops"' in init.replace('\\"', '"')


class FakeSecrets:
    def __init__(self, values: dict[tuple[str, str, str], str]) -> None:
        self.values = values

    def value(self, tenant_id: str, workflow_id: str, name: str) -> str:
        try:
            return self.values[(tenant_id, workflow_id, name)]
        except KeyError:
            raise SecretNotSet(
                f"secret environment variable {name} is not set for workflow {workflow_id}"
            ) from None


RUN = {
    "tenant_id": "t1",
    "workflow_id": "wf",
    "env": {"api_key": {"$signoff_secret": "api_key"}, "team": "Ops"},
}


def test_given_a_placeholder_then_the_scope_resolves_the_secret_and_remembers_it():
    scope = VariableScope({}, RUN, FakeSecrets({("t1", "wf", "api_key"): "s3cr3t-value"}))

    assert scope.resolve(["env", "api_key"]) == "s3cr3t-value"
    assert scope.resolve(["env", "team"]) == "Ops"
    assert scope.secret_values == {"s3cr3t-value"}


def test_given_an_unset_secret_then_the_error_names_it_and_the_workflow():
    scope = VariableScope({}, RUN, FakeSecrets({}))

    with pytest.raises(SecretNotSet, match="api_key is not set for workflow wf"):
        scope.resolve(["env", "api_key"])


def test_given_no_secret_source_then_a_secret_read_is_not_set():
    with pytest.raises(SecretNotSet):
        VariableScope({}, RUN).resolve(["env", "api_key"])


def test_given_values_then_every_occurrence_in_strings_and_keys_is_redacted():
    value = {"out": "Bearer s3cr3t!", "list": ["s3cr3t", 3, None], "s3cr3t": True}

    redacted = redact_values(value, {"s3cr3t"})

    assert redacted == {
        "out": f"Bearer {REDACTED}!",
        "list": [REDACTED, 3, None],
        REDACTED: True,
    }
    assert redact_values(value, set()) is value


def test_given_remembered_secret_values_then_log_records_are_redacted():
    remember_secret_values({"very-private-value-42"})

    assert redact({"message": "got very-private-value-42 back"}) == {
        "message": f"got {REDACTED} back"
    }


def test_given_a_tenant_and_workflow_then_the_secret_name_is_under_the_prefix():
    name = secret_id("signoff/dev/workflows/", "tenant-a", "wf-1", "api_key")

    assert name == f"signoff/dev/workflows/{tenant_hash('tenant-a')}/wf-1/env/api_key"
    assert tenant_hash("tenant-a") != tenant_hash("tenant-b")


def test_given_other_values_then_they_are_not_placeholders():
    assert placeholder_name({"$signoff_secret": "k"}) == "k"
    assert placeholder_name({"$signoff_secret": "k", "x": 1}) is None
    assert placeholder_name("k") is None
