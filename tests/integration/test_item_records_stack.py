"""Node executions and run variables per item, through the whole template stack on moto: a node
inside an iteration runs once per item, and GET /runs/{id}/nodes and GET /runs/{id}/variables
tell the items apart (the compiled Task's `scope` -> the node function's record)."""

from __future__ import annotations

from typing import Any

import pytest

from signoff.local.provision import StackPlan
from tests.support.review_machines import wait_for
from tests.support.stack_api import StackApi
from tests.support.workflows import greetings_per_item

pytestmark = pytest.mark.integration

NAMES = ["ada", "bob", "cy"]


@pytest.fixture
def api(stack: StackPlan) -> StackApi:
    return StackApi(stack)


def deploy(api: StackApi, document: dict[str, Any], workflow_id: str) -> None:
    status, body = api.call("POST", "/workflows", {**document, "id": workflow_id})
    assert status == 201, body


def start(api: StackApi, workflow_id: str, mode: str = "normal") -> str:
    status, body = api.call(
        "POST", f"/workflows/{workflow_id}/runs", {"inputs": {"names": NAMES}, "mode": mode}
    )
    assert status in (200, 202), body
    return body["run_id"]


def nodes_of(api: StackApi, run_id: str, node_id: str) -> list[dict[str, Any]]:
    status, body = api.call("GET", f"/runs/{run_id}/nodes")
    assert status == 200, body
    return [entry for entry in body["data"] if entry["node_id"] == node_id]


def test_given_an_iteration_of_three_then_the_nodes_list_one_record_per_item(api):
    # Given an iteration of three items, all at once
    deploy(api, greetings_per_item(parallel=True), "greetings")
    run_id = start(api, "greetings")

    # When the run ends
    run = api.finished(run_id)
    assert run["status"] == "succeeded", run
    assert run["outputs"] == {"shouts": ["HI ADA!", "HI BOB!", "HI CY!"]}

    # Then each body node has one record per item, each naming its item
    for node_id in ("greet", "shout"):
        records = sorted(nodes_of(api, run_id, node_id), key=lambda entry: entry["item_index"])
        assert [entry["item_index"] for entry in records] == [0, 1, 2]
        assert [entry["index_path"] for entry in records] == [
            [{"container_id": "each", "index": index}] for index in range(3)
        ]
        assert {entry["container_id"] for entry in records} == {"each"}
        assert {entry["loop_index"] for entry in records} == {None}
        assert len({entry["node_execution_id"] for entry in records}) == 3
    greets = sorted(nodes_of(api, run_id, "greet"), key=lambda entry: entry["item_index"])
    assert [entry["outputs"] for entry in greets] == [{"output": f"hi {n}"} for n in NAMES]


def test_given_step_mode_paused_on_item_1_then_the_variables_show_each_items_outputs(api):
    # Given the iteration one item at a time, in step mode
    deploy(api, greetings_per_item(), "stepped")
    run_id = start(api, "stepped", mode="step")

    # When item 0 is stepped through and the run pauses on item 1's greet
    for node_id, index in (("greet", 0), ("shout", 0)):
        step = wait_for(lambda n=node_id, i=index: pending_step(api, run_id, n, i))
        decide(api, run_id, step)
    paused_on = wait_for(lambda: pending_step(api, run_id, "greet", 1))

    # Then the variables show every item's outputs so far, and each node's latest
    shown = variables(api, run_id)
    assert shown["items"]["greet"] == [
        item(0, {"output": "hi ada"}),
        item(1, {"output": "hi bob"}),
    ]
    assert shown["items"]["shout"] == [item(0, {"output": "HI ADA!"})]
    assert shown["variables"]["greet"] == {"output": "hi bob"}
    assert "start" not in shown["items"]

    # When item 1's greet is edited
    status, changed = api.call(
        "PATCH", f"/runs/{run_id}/variables", {"greet": {"__item": 1, "output": "hey you"}}
    )

    # Then the edit shows as pending on item 1 only, not as a variable of its own
    assert status == 200, changed
    assert changed["items"]["greet"] == [
        item(0, {"output": "hi ada"}),
        item(1, {"output": "hey you"}, pending=True),
    ]
    assert "greet@1" not in changed["variables"]
    assert changed["pending_patch"] == {"greet@1": {"output": "hey you"}}
    assert variables(api, run_id)["items"] == changed["items"]

    # When the pause is approved, the edit goes with it and stays on item 1
    decide(api, run_id, paused_on)
    wait_for(lambda: pending_step(api, run_id, "shout", 1))
    sent = variables(api, run_id)
    assert sent["pending_patch"] == {}
    assert sent["items"]["greet"][1] == item(1, {"output": "hey you"})
    assert sent["items"]["shout"][1] == item(1, {"output": "HEY YOU!"})


def item(index: int, outputs: dict[str, Any], *, pending: bool = False) -> dict[str, Any]:
    return {
        "index_path": [{"container_id": "each", "index": index}],
        "outputs": outputs,
        "pending": pending,
    }


def variables(api: StackApi, run_id: str) -> dict[str, Any]:
    status, body = api.call("GET", f"/runs/{run_id}/variables")
    assert status == 200, body
    return body


def pending_step(api: StackApi, run_id: str, node_id: str, index: int) -> dict[str, Any] | None:
    status, body = api.call("GET", f"/runs/{run_id}/reviews")
    assert status == 200, body
    for review in body["data"]:
        if (review["status"], review["node_id"], review["item_index"]) == (
            "pending",
            node_id,
            index,
        ):
            return review
    return None


def decide(api: StackApi, run_id: str, review: dict[str, Any]) -> None:
    status, body = api.call(
        "POST", f"/runs/{run_id}/reviews/{review['review_id']}", {"action": "approve"}
    )
    assert status == 200, body
