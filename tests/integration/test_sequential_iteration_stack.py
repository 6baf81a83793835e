"""Sequential iterations writing conversation variables, run in moto: each item sees the writes
of the items before it, the outputs and error modes are the Map form's, and a session keeps the
values across runs (the session part is in the e2e Agno tests)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.support.sequential_iterations import iteration_workflow
from tests.support.stack_api import StackApi

pytestmark = pytest.mark.integration


def deploy(api: StackApi, document: dict[str, Any]) -> str:
    workflow_id = f"seq-{uuid.uuid4().hex[:10]}"
    status, body = api.call("POST", "/workflows", {**document, "id": workflow_id})
    assert status == 201, body
    return workflow_id


def run(api: StackApi, workflow_id: str, items: list[Any]) -> dict[str, Any]:
    status, result = api.call(
        "POST", f"/workflows/{workflow_id}/runs", {"inputs": {"items": items}}
    )
    assert status == 200, result
    return result


def outcome(result: dict[str, Any]) -> tuple[str, Any]:
    if result["status"] == "succeeded":
        return result["status"], result["outputs"]["result"]
    return result["status"], (result.get("error") or {}).get("node_id")


def test_given_a_sequential_iteration_then_each_item_sees_the_writes_before_it(stack):
    api = StackApi(stack)
    workflow_id = deploy(api, iteration_workflow(writes_conversation=True))

    result = run(api, workflow_id, ["a", "b", "c"])

    assert result["status"] == "succeeded", result
    assert result["outputs"] == {"result": ["0:a:0", "1:b:1", "2:c:2"], "seen": ["a", "b", "c"]}
    _, nodes = api.call("GET", f"/runs/{result['run_id']}/nodes")
    assert [n["node_id"] for n in nodes["data"]].count("work") == 3


@pytest.mark.parametrize(
    ("settings", "items"),
    [
        ({"error_handle_mode": "terminated"}, ["a", "b"]),
        ({"error_handle_mode": "terminated"}, ["a", "bad", "c"]),
        ({"error_handle_mode": "continue-on-error"}, ["a", "bad", "c"]),
        ({"error_handle_mode": "remove-abnormal-output"}, ["a", "bad", "c"]),
        ({"error_handle_mode": "remove-abnormal-output", "output": "pair"}, ["a", "bad", "c"]),
        ({"output": "pair", "flatten_output": True}, ["a", "b"]),
        ({}, []),
        ({}, None),
    ],
    ids=[
        "terminated",
        "terminated-failing",
        "continue-on-error",
        "remove-abnormal-output",
        "remove-abnormal-lists",
        "flattened",
        "empty",
        "null",
    ],
)
def test_given_the_same_items_then_the_sequential_form_answers_as_the_map_form(
    stack, settings, items
):
    api = StackApi(stack)
    # "pair" ([item, index]) and the failures do not depend on the conversation: both forms
    # must agree. With "out", only the count of items seen before differs; compare the rest.
    as_map = deploy(api, iteration_workflow(writes_conversation=False, **settings))
    as_loop = deploy(api, iteration_workflow(writes_conversation=True, **settings))

    expected = outcome(run(api, as_map, items))
    found = outcome(run(api, as_loop, items))

    if settings.get("output") == "pair" or expected[0] != "succeeded":
        assert found == expected
    else:
        strip = [None if v is None else v.rsplit(":", 1)[0] for v in found[1]]
        assert (found[0], strip) == (expected[0], [v and v.rsplit(":", 1)[0] for v in expected[1]])
