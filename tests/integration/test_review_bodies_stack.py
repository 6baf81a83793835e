"""Waits on a person inside iteration and loop bodies, through the whole template stack on moto:
the compiler's state machine waits per item (and per loop round) on the review function, a person
decides over the api function, and each item goes on alone. The run stays paused while any of its
waits is pending (store/runs.py `open_wait` / `close_wait`)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

from signoff.local.provision import StackPlan
from tests.support.review_machines import wait_for
from tests.support.stack_api import StackApi
from tests.support.workflows import greetings_per_item

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = yaml.safe_load((ROOT / "examples" / "review_iteration.yaml").read_text(encoding="utf-8"))


class Bodies:
    def __init__(self, plan: StackPlan) -> None:
        self.api = StackApi(plan)

    def deploy(self, document: dict[str, Any], workflow_id: str) -> None:
        status, body = self.api.call("POST", "/workflows", {**document, "id": workflow_id})
        assert status == 201, body

    def start(self, workflow_id: str, inputs: dict[str, Any], mode: str | None = None) -> str:
        request: dict[str, Any] = {"inputs": inputs}
        if mode:
            request["mode"] = mode
        status, body = self.api.call("POST", f"/workflows/{workflow_id}/runs", request)
        assert status in (200, 202), body
        return body["run_id"]

    def reviews(self, run_id: str) -> list[dict[str, Any]]:
        status, body = self.api.call("GET", f"/runs/{run_id}/reviews")
        assert status == 200, body
        return body["data"]

    def pending(self, run_id: str, count: int) -> list[dict[str, Any]]:
        """Wait until exactly `count` reviews are pending; answer them by item index."""

        def found() -> list[dict[str, Any]] | None:
            waiting = [r for r in self.reviews(run_id) if r["status"] == "pending"]
            return waiting if len(waiting) == count else None

        waiting = wait_for(found)
        return sorted(waiting, key=lambda r: (r["item_index"] or 0, r["loop_index"] or 0))

    def decide(self, run_id: str, review: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        status, decided = self.api.call(
            "POST", f"/runs/{run_id}/reviews/{review['review_id']}", body
        )
        assert status == 200, decided
        return decided


@pytest.fixture
def bodies(stack: StackPlan) -> Bodies:
    return Bodies(stack)


def sequential(document: dict[str, Any]) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    iteration = next(node for node in changed["nodes"] if node["type"] == "iteration")
    iteration["is_parallel"] = False
    return changed


def test_given_an_iteration_of_three_when_one_item_is_revised_then_only_it_runs_again(bodies):
    # Given the example, one item at a time
    bodies.deploy(sequential(EXAMPLE), "lines")
    run_id = bodies.start("lines", {"topics": ["owls", "bees", "cats"]})

    # When item 0 is approved, item 1 sent back once then approved, item 2 approved
    first = bodies.pending(run_id, 1)[0]
    assert (first["node_id"], first["item_index"], first["round"]) == ("line", 0, 1)
    assert first["container_id"] == "each"
    assert first["index_path"] == [{"container_id": "each", "index": 0}]
    assert first["outputs"] == {"output": "1. About owls."}
    assert bodies.api.run(run_id)["status"] == "paused"
    bodies.decide(run_id, first, {"action": "approve"})

    second = wait_for(lambda: _pending_at(bodies, run_id, item=1, round_=1))
    assert second["outputs"] == {"output": "2. About bees."}
    bodies.decide(run_id, second, {"action": "revise", "feedback": "more buzz"})
    again = wait_for(lambda: _pending_at(bodies, run_id, item=1, round_=2))
    assert again["outputs"] == {"output": "2. About bees. Revised: more buzz"}
    assert again["review_id"] != second["review_id"]
    bodies.decide(run_id, again, {"action": "approve"})

    third = wait_for(lambda: _pending_at(bodies, run_id, item=2, round_=1))
    bodies.decide(run_id, third, {"satisfied": True})

    # Then each item's line is as its own review left it
    run = bodies.api.finished(run_id)
    assert run["status"] == "succeeded", run
    assert run["outputs"] == {
        "lines": ["1. About owls.", "2. About bees. Revised: more buzz", "3. About cats."]
    }
    rounds = sorted((r["item_index"], r["round"], r["status"]) for r in bodies.reviews(run_id))
    assert rounds == [
        (0, 1, "approved"),
        (1, 1, "revised"),
        (1, 2, "approved"),
        (2, 1, "approved"),
    ]


def _pending_at(bodies: Bodies, run_id: str, *, item: int, round_: int) -> dict[str, Any] | None:
    for review in bodies.reviews(run_id):
        if (review["status"], review["item_index"], review["round"]) == ("pending", item, round_):
            return review
    return None


@pytest.mark.parametrize("order", [(0, 1), (1, 0)], ids=["first-then-second", "second-first"])
def test_given_a_parallel_iteration_then_the_run_resumes_only_after_the_last_review(bodies, order):
    # Given two items waiting at once
    bodies.deploy(EXAMPLE, "lines")
    run_id = bodies.start("lines", {"topics": ["owls", "bees"]})
    waiting = bodies.pending(run_id, 2)
    assert [review["item_index"] for review in waiting] == [0, 1]
    assert bodies.api.run(run_id)["status"] == "paused"

    # When one is decided, the run is still paused; when the other is, it goes on
    bodies.decide(run_id, waiting[order[0]], {"action": "edit", "outputs": {"output": "edited"}})
    assert bodies.api.run(run_id)["status"] == "paused"
    bodies.decide(run_id, waiting[order[1]], {"action": "approve"})

    # Then the run ends with the edit in its item's place
    run = bodies.api.finished(run_id)
    assert run["status"] == "succeeded", run
    expected = ["1. About owls.", "2. About bees."]
    expected[order[0]] = "edited"
    assert run["outputs"] == {"lines": expected}


LOOP = {
    "name": "loop_review",
    "inputs": [{"variable": "topic", "type": "string", "required": True}],
    "nodes": [
        {"id": "start", "type": "start"},
        {
            "id": "rounds",
            "type": "loop",
            "loop_count": 2,
            "start_node_id": "rounds_start",
            "loop_variables": [
                {
                    "label": "lines",
                    "var_type": "array[string]",
                    "value_type": "constant",
                    "value": [],
                }
            ],
        },
        {"id": "rounds_start", "type": "loop-start", "parent_id": "rounds"},
        {
            "id": "line",
            "type": "template-transform",
            "parent_id": "rounds",
            "template": (
                "Round {{ done | length + 1 }} on {{ topic }}."
                "{% if feedback %} {{ feedback }}{% endif %}"
            ),
            "variables": [
                {"variable": "done", "value_selector": ["rounds", "lines"]},
                {"variable": "topic", "value_selector": ["start", "topic"]},
            ],
            "review": {"max_rounds": 2},
        },
        {
            "id": "keep",
            "type": "assigner",
            "parent_id": "rounds",
            "items": [
                {
                    "variable_selector": ["rounds", "lines"],
                    "input_type": "variable",
                    "operation": "append",
                    "value": ["line", "output"],
                }
            ],
        },
        {
            "id": "end",
            "type": "end",
            "outputs": [{"variable": "lines", "value_selector": ["rounds", "lines"]}],
        },
    ],
    "edges": [
        {"source": "start", "target": "rounds"},
        {"source": "rounds_start", "target": "line"},
        {"source": "line", "target": "keep"},
        {"source": "rounds", "target": "end"},
    ],
}


def test_given_a_reviewed_node_in_a_loop_then_each_round_has_its_own_review_rounds(bodies):
    bodies.deploy(LOOP, "looped")
    run_id = bodies.start("looped", {"topic": "owls"})

    # Round 0: approved at once
    first = bodies.pending(run_id, 1)[0]
    assert (first["loop_index"], first["round"], first["item_index"]) == (0, 1, None)
    assert first["index_path"] == [{"container_id": "rounds", "index": 0}]
    assert first["outputs"] == {"output": "Round 1 on owls."}
    bodies.decide(run_id, first, {"action": "approve"})

    # Round 1: sent back once (its review round 2), then approved
    second = wait_for(lambda: _pending_in_round(bodies, run_id, loop=1, round_=1))
    assert second["outputs"] == {"output": "Round 2 on owls."}
    bodies.decide(run_id, second, {"action": "revise", "feedback": "Shorter."})
    again = wait_for(lambda: _pending_in_round(bodies, run_id, loop=1, round_=2))
    assert again["outputs"] == {"output": "Round 2 on owls. Shorter."}
    bodies.decide(run_id, again, {"action": "approve"})

    run = bodies.api.finished(run_id)
    assert run["status"] == "succeeded", run
    assert run["outputs"] == {"lines": ["Round 1 on owls.", "Round 2 on owls. Shorter."]}


def _pending_in_round(
    bodies: Bodies, run_id: str, *, loop: int, round_: int
) -> dict[str, Any] | None:
    for review in bodies.reviews(run_id):
        if (review["status"], review["loop_index"], review["round"]) == ("pending", loop, round_):
            return review
    return None


ASK_EACH = {
    "name": "ask_each",
    "inputs": [{"variable": "names", "type": "array", "required": True}],
    "nodes": [
        {"id": "start", "type": "start"},
        {
            "id": "each",
            "type": "iteration",
            "iterator_selector": ["start", "names"],
            "output_selector": ["answer", "output"],
            "start_node_id": "each_start",
            "is_parallel": True,
            "parallel_nums": 2,
        },
        {"id": "each_start", "type": "iteration-start", "parent_id": "each"},
        {
            "id": "ask",
            "type": "human-input",
            "parent_id": "each",
            "form_content": "Welcome {{#each.item#}}?",
            "inputs": [{"type": "paragraph", "output_variable_name": "note"}],
            "user_actions": [{"id": "yes"}, {"id": "no"}],
            "timeout_seconds": 2,
        },
        {
            "id": "welcome",
            "type": "template-transform",
            "parent_id": "each",
            "template": "Welcome {{ name }}: {{ note }}",
            "variables": [
                {"variable": "name", "value_selector": ["each", "item"]},
                {"variable": "note", "value_selector": ["ask", "note"]},
            ],
        },
        {
            "id": "refuse",
            "type": "template-transform",
            "parent_id": "each",
            "template": "No {{ name }}",
            "variables": [{"variable": "name", "value_selector": ["each", "item"]}],
        },
        {
            "id": "late",
            "type": "template-transform",
            "parent_id": "each",
            "template": "Nobody answered for {{ name }}",
            "variables": [{"variable": "name", "value_selector": ["each", "item"]}],
        },
        {
            "id": "answer",
            "type": "variable-aggregator",
            "parent_id": "each",
            "output_type": "string",
            "variables": [["welcome", "output"], ["refuse", "output"], ["late", "output"]],
        },
        {
            "id": "end",
            "type": "end",
            "outputs": [{"variable": "answers", "value_selector": ["each", "output"]}],
        },
    ],
    "edges": [
        {"source": "start", "target": "each"},
        {"source": "each_start", "target": "ask"},
        {"source": "ask", "sourceHandle": "yes", "target": "welcome"},
        {"source": "ask", "sourceHandle": "no", "target": "refuse"},
        {"source": "ask", "sourceHandle": "__timeout", "target": "late"},
        {"source": "welcome", "target": "answer"},
        {"source": "refuse", "target": "answer"},
        {"source": "late", "target": "answer"},
        {"source": "each", "target": "end"},
    ],
}


def test_given_a_form_in_an_iteration_then_each_item_has_its_form_action_and_timeout(bodies):
    bodies.deploy(ASK_EACH, "ask_each")
    run_id = bodies.start("ask_each", {"names": ["ada", "bob", "cy"]})

    # Two items wait at once (parallel_nums 2); each form names its own item
    waiting = bodies.pending(run_id, 2)
    assert [form["item_index"] for form in waiting] == [0, 1]
    assert "Welcome ada?" in waiting[0]["settings"]["form_content"]
    assert "Welcome bob?" in waiting[1]["settings"]["form_content"]
    bodies.decide(
        run_id,
        waiting[0],
        {"action": "submit", "action_id": "yes", "inputs": {"note": "hello"}},
    )
    bodies.decide(run_id, waiting[1], {"action": "submit", "action_id": "no"})
    # Item 2's form is left to time out: its __timeout branch runs
    run = bodies.api.finished(run_id)

    assert run["status"] == "succeeded", run
    assert run["outputs"] == {"answers": ["Welcome ada: hello", "No bob", "Nobody answered for cy"]}
    statuses = sorted((r["item_index"], r["status"]) for r in bodies.reviews(run_id))
    assert statuses == [(0, "submitted"), (1, "submitted"), (2, "timed_out")]


def test_given_step_mode_then_it_pauses_per_item_and_an_edit_applies_to_its_item(bodies):
    bodies.deploy(greetings_per_item(), "stepped")
    run_id = bodies.start("stepped", {"names": ["ada", "bob"]}, mode="step")

    # Item 0: greet, then shout, each a step
    step = bodies.pending(run_id, 1)[0]
    assert (step["kind"], step["node_id"], step["item_index"]) == ("step", "greet", 0)
    bodies.decide(run_id, step, {"action": "approve"})
    step = wait_for(lambda: _pending_step(bodies, run_id, "shout", 0))
    assert step["outputs"] == {"output": "HI ADA!"}
    bodies.decide(run_id, step, {"action": "approve"})

    # Item 1: greet's outputs edited while paused, for this item only
    step = wait_for(lambda: _pending_step(bodies, run_id, "greet", 1))
    status, refused = bodies.api.call(
        "PATCH", f"/runs/{run_id}/variables", {"greet": {"output": "hey"}}
    )
    assert (status, refused["code"]) == (400, "invalid_input"), refused
    assert "greet.__item" in str(refused)
    status, changed = bodies.api.call(
        "PATCH", f"/runs/{run_id}/variables", {"greet": {"__item": 1, "output": "hey you"}}
    )
    assert status == 200, changed
    assert changed["pending_patch"] == {"greet@1": {"output": "hey you"}}
    bodies.decide(run_id, step, {"action": "approve"})
    step = wait_for(lambda: _pending_step(bodies, run_id, "shout", 1))
    assert step["outputs"] == {"output": "HEY YOU!"}
    bodies.decide(run_id, step, {"action": "approve"})

    run = bodies.api.finished(run_id)
    assert run["status"] == "succeeded", run
    assert run["outputs"] == {"shouts": ["HI ADA!", "HEY YOU!"]}


def _pending_step(bodies: Bodies, run_id: str, node_id: str, item: int) -> dict[str, Any] | None:
    for review in bodies.reviews(run_id):
        if (review["status"], review["node_id"], review["item_index"]) == (
            "pending",
            node_id,
            item,
        ):
            return review
    return None


def test_given_two_items_waiting_when_the_run_is_cancelled_then_both_reviews_close(bodies):
    bodies.deploy(EXAMPLE, "lines")
    run_id = bodies.start("lines", {"topics": ["owls", "bees"]})
    waiting = bodies.pending(run_id, 2)

    status, cancelled = bodies.api.call("POST", f"/runs/{run_id}/cancel")

    assert status == 200, cancelled
    assert cancelled["status"] == "stopped"
    assert sorted(r["status"] for r in bodies.reviews(run_id)) == ["cancelled", "cancelled"]
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    arn = bodies.api.run(run_id)["execution_arn"]
    # The execution ends ABORTED, as on AWS: the stop ends the waiting items, not a failure.
    wait_for(lambda: sfn.describe_execution(executionArn=arn)["status"] != "RUNNING")
    assert sfn.describe_execution(executionArn=arn)["status"] == "ABORTED"
    status, refused = bodies.api.call(
        "POST", f"/runs/{run_id}/reviews/{waiting[0]['review_id']}", {"action": "approve"}
    )
    assert status == 409, refused
