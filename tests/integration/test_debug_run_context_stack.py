"""Single-node (debug) runs carry the run context a run's Init sets: the workflow's environment
variables (a secret one resolved by the node function, as in a run) and its conversation
variables, so a node reading `env.*`, a secret or `conversation.*` can be run alone."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from tests.support.stack_api import StackApi

pytestmark = pytest.mark.integration

SECRET = "sk-debug-" + "5" * 24
SHOW_CODE = (
    "def main(name, team, key, seen):\n"
    "    return {'summary': f'{name}@{team}: key of {len(key)}, seen {seen}',\n"
    "            'echo': 'key=' + key}\n"
)


def workflow() -> dict[str, Any]:
    """start -> show (code: reads start, env, a secret and a conversation variable) -> end."""
    return {
        "id": f"dbg-{uuid.uuid4().hex[:10]}",
        "name": "debug context",
        "inputs": [{"variable": "name", "type": "string"}],
        "environment_variables": [
            {"name": "team", "value": "ops"},
            {"name": "api_key", "value_type": "secret"},
        ],
        "conversation_variables": [{"name": "seen", "value_type": "array[string]", "value": []}],
        "nodes": [
            {"id": "start", "type": "start"},
            {
                "id": "show",
                "type": "code",
                "code": SHOW_CODE,
                "variables": [
                    {"variable": "name", "value_selector": ["start", "name"]},
                    {"variable": "team", "value_selector": ["env", "team"]},
                    {"variable": "key", "value_selector": ["env", "api_key"]},
                    {"variable": "seen", "value_selector": ["conversation", "seen"]},
                ],
                "outputs": {"summary": {"type": "string"}, "echo": {"type": "string"}},
            },
            {
                "id": "end",
                "type": "end",
                "outputs": [{"variable": "summary", "value_selector": ["show", "summary"]}],
            },
        ],
        "edges": [{"source": "start", "target": "show"}, {"source": "show", "target": "end"}],
    }


@pytest.fixture
def debug_workflow(stack) -> tuple[StackApi, str]:
    api = StackApi(stack)
    document = workflow()
    status, body = api.call("POST", "/workflows", document)
    assert status == 201, body
    return api, document["id"]


def set_secret(api: StackApi, workflow_id: str) -> None:
    status, body = api.call("PUT", f"/workflows/{workflow_id}/secrets/api_key", {"value": SECRET})
    assert status == 201, body


def test_given_env_a_secret_and_conversation_defaults_when_a_node_runs_alone_then_it_reads_them(
    debug_workflow,
):
    api, workflow_id = debug_workflow
    set_secret(api, workflow_id)

    status, debug_run = api.call(
        "POST", f"/workflows/{workflow_id}/nodes/show/run", {"inputs": {"#start.name#": "Ada"}}
    )
    _, listed = api.call("GET", f"/workflows/{workflow_id}/nodes/show/runs")

    assert status == 200, debug_run
    assert debug_run["status"] == "succeeded", debug_run
    assert debug_run["outputs"] == {
        "summary": f"Ada@ops: key of {len(SECRET)}, seen []",
        "echo": "key=[redacted]",
    }
    # The secret reached the node only: neither the answer nor the recorded run keeps it.
    assert SECRET not in json.dumps(debug_run)
    assert SECRET not in json.dumps(listed)
    assert [run["debug_run_id"] for run in listed["data"]] == [debug_run["debug_run_id"]]


def test_given_conversation_values_in_the_request_then_they_replace_the_declared_ones(
    debug_workflow,
):
    api, workflow_id = debug_workflow
    set_secret(api, workflow_id)
    path = f"/workflows/{workflow_id}/nodes/show/run"

    _, as_object = api.call(
        "POST", path, {"inputs": {"start": {"name": "Bo"}, "conversation": {"seen": ["Ada"]}}}
    )
    _, flat = api.call(
        "POST", path, {"inputs": {"#start.name#": "Cy", "#conversation.seen#": ["Ada", "Bo"]}}
    )

    assert as_object["outputs"]["summary"] == f"Bo@ops: key of {len(SECRET)}, seen ['Ada']"
    assert flat["outputs"]["summary"] == f"Cy@ops: key of {len(SECRET)}, seen ['Ada', 'Bo']"


def test_given_an_unset_secret_when_a_node_reading_it_runs_alone_then_it_fails_naming_it(
    debug_workflow,
):
    api, workflow_id = debug_workflow

    status, debug_run = api.call(
        "POST", f"/workflows/{workflow_id}/nodes/show/run", {"inputs": {"#start.name#": "Ada"}}
    )

    assert status == 200, debug_run
    assert debug_run["status"] == "failed"
    assert debug_run["error"]["type"] == "SecretNotSet"
    assert f"api_key is not set for workflow {workflow_id}" in debug_run["error"]["message"]


@pytest.mark.parametrize(
    "inputs",
    [
        {"#start.name#": "Ada", "#env.team#": "sales"},
        {"#start.name#": "Ada", "conversation": {"unknown": 1}},
    ],
    ids=["env given", "undeclared conversation variable"],
)
def test_given_env_values_or_an_undeclared_conversation_variable_then_400(debug_workflow, inputs):
    api, workflow_id = debug_workflow

    status, body = api.call("POST", f"/workflows/{workflow_id}/nodes/show/run", {"inputs": inputs})

    assert status == 400, body
