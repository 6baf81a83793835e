"""Compiled reviews through the whole template stack on moto: workflows with `review` settings
and step-mode runs, compiled by the compiler (no hand-written machine), decided over the api
function."""

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
from tests.support.workflows import fragile

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
REVIEW_EXAMPLE = yaml.safe_load((ROOT / "examples" / "review.yaml").read_text(encoding="utf-8"))
REGION = "us-east-1"

# Two work nodes and no review: start(topic) -> draft -> polish -> end(text).
CHAIN: dict[str, Any] = {
    "name": "chain",
    "inputs": [{"variable": "topic", "type": "string", "required": True}],
    "nodes": [
        {"id": "start", "type": "start"},
        {
            "id": "draft",
            "type": "template-transform",
            "template": "about {{ topic }}",
            "variables": [{"variable": "topic", "value_selector": ["start", "topic"]}],
        },
        {
            "id": "polish",
            "type": "template-transform",
            "template": "{{ text | upper }}",
            "variables": [{"variable": "text", "value_selector": ["draft", "output"]}],
        },
        {
            "id": "end",
            "type": "end",
            "outputs": [{"variable": "text", "value_selector": ["polish", "output"]}],
        },
    ],
    "edges": [
        {"source": "start", "target": "draft"},
        {"source": "draft", "target": "polish"},
        {"source": "polish", "target": "end"},
    ],
}


class Runs:
    def __init__(self, plan: StackPlan) -> None:
        self.api = StackApi(plan)
        self.sfn = boto3.client("stepfunctions", region_name=REGION)

    def deploy(self, workflow_id: str, document: dict[str, Any]) -> None:
        status, body = self.api.call("POST", "/workflows", {**document, "id": workflow_id})
        assert status == 201, body

    def start(self, workflow_id: str, inputs: dict[str, Any], **options: Any) -> dict[str, Any]:
        status, body = self.api.call(
            "POST", f"/workflows/{workflow_id}/runs", {"inputs": inputs, **options}
        )
        assert status in (200, 202), body
        return body

    def pending(self, run_id: str, node_id: str, round_: int = 1) -> dict[str, Any]:
        def found() -> dict[str, Any] | None:
            _, body = self.api.call("GET", f"/runs/{run_id}/reviews")
            matching = [
                review
                for review in body["data"]
                if review["status"] == "pending"
                and review["node_id"] == node_id
                and review["round"] == round_
            ]
            return matching[0] if matching else None

        return wait_for(found)

    def decide(self, run_id: str, review: dict[str, Any], decision: dict[str, Any]) -> None:
        status, body = self.api.call(
            "POST", f"/runs/{run_id}/reviews/{review['review_id']}", decision
        )
        assert status == 200, body

    def transitions(self, run: dict[str, Any]) -> int:
        """How many states the run's execution entered."""
        events = [
            event
            for page in self.sfn.get_paginator("get_execution_history").paginate(
                executionArn=run["execution_arn"]
            )
            for event in page["events"]
        ]
        return sum(event["type"].endswith("StateEntered") for event in events)


@pytest.fixture
def runs(stack: StackPlan) -> Runs:
    return Runs(stack)


def reviewed(**settings: Any) -> dict[str, Any]:
    document = copy.deepcopy(REVIEW_EXAMPLE)
    draft = next(node for node in document["nodes"] if node["id"] == "draft")
    draft["review"] = {**draft["review"], **settings}
    return document


def test_given_the_review_example_when_revised_then_approved_then_the_draft_used_the_feedback(
    runs,
):
    runs.deploy("review", REVIEW_EXAMPLE)
    run_id = runs.start("review", {"topic": "owls"})["run_id"]

    first = runs.pending(run_id, "draft")
    assert first["outputs"] == {"output": "A text about owls."}
    assert runs.api.run(run_id)["status"] == "paused"
    runs.decide(run_id, first, {"action": "revise", "feedback": "mention the night"})
    second = runs.pending(run_id, "draft", round_=2)
    assert second["outputs"] == {"output": "A text about owls. Revised: mention the night"}
    runs.decide(run_id, second, {"action": "approve"})

    run = runs.api.finished(run_id)
    assert run["status"] == "succeeded", run
    assert run["outputs"] == {"text": "A text about owls. Revised: mention the night"}


def test_given_a_review_when_edited_then_the_run_goes_on_with_the_edited_outputs(runs):
    runs.deploy("review", REVIEW_EXAMPLE)
    run_id = runs.start("review", {"topic": "owls"})["run_id"]

    runs.decide(
        run_id, runs.pending(run_id, "draft"), {"action": "edit", "outputs": {"output": "Mine."}}
    )

    run = runs.api.finished(run_id)
    assert (run["status"], run["outputs"]) == ("succeeded", {"text": "Mine."})


def test_given_max_rounds_used_up_with_on_max_rounds_fail_then_the_run_fails(runs):
    runs.deploy("strict", reviewed(max_rounds=1, on_max_rounds="fail"))
    run_id = runs.start("strict", {"topic": "owls"})["run_id"]

    runs.decide(run_id, runs.pending(run_id, "draft"), {"action": "revise", "feedback": "no"})

    run = runs.api.finished(run_id)
    assert run["status"] == "failed"
    assert run["error"]["node_id"] == "draft"
    assert run["error"]["type"] == "ReviewRoundsExhausted"


def test_given_max_rounds_used_up_with_on_max_rounds_approve_then_the_last_draft_is_kept(runs):
    runs.deploy("lenient", reviewed(max_rounds=2))
    run_id = runs.start("lenient", {"topic": "owls"})["run_id"]

    runs.decide(run_id, runs.pending(run_id, "draft"), {"action": "revise", "feedback": "a"})
    runs.decide(run_id, runs.pending(run_id, "draft", 2), {"action": "revise", "feedback": "b"})

    run = runs.api.finished(run_id)
    assert run["status"] == "succeeded"
    assert run["outputs"] == {"text": "A text about owls. Revised: a"}


def test_given_a_review_timeout_with_on_timeout_fail_then_step_functions_fails_the_run(runs):
    runs.deploy("impatient", reviewed(timeout=1, on_timeout="fail"))
    run_id = runs.start("impatient", {"topic": "owls"})["run_id"]

    run = runs.api.finished(run_id)

    assert run["status"] == "failed"
    assert run["error"]["type"] == "ReviewTimedOut"
    _, reviews = runs.api.call("GET", f"/runs/{run_id}/reviews")
    assert [review["status"] for review in reviews["data"]] == ["timed_out"]


def test_given_one_graph_then_step_mode_costs_transitions_and_normal_runs_pay_none(runs):
    runs.deploy("chain", CHAIN)
    normal = runs.start("chain", {"topic": "owls"})
    assert normal["status"] == "succeeded", normal

    stepped = runs.start("chain", {"topic": "owls"}, mode="step")
    run_id = stepped["run_id"]
    for node_id in ("draft", "polish"):
        runs.decide(run_id, runs.pending(run_id, node_id), {"action": "approve"})
    stepped = runs.api.finished(run_id)
    assert stepped["status"] == "succeeded", stepped
    assert stepped["outputs"] == normal["outputs"] == {"text": "ABOUT OWLS"}

    normal_count = runs.transitions(runs.api.run(normal["run_id"]))
    step_count = runs.transitions(stepped)
    # Init, draft, polish, end, Settle Succeeded, Succeeded; a step adds one pause per work node.
    assert (normal_count, step_count) == (6, 8), (
        f"transitions: normal {normal_count}, step {step_count}"
    )


def test_given_a_step_pause_when_edited_then_downstream_nodes_see_the_edit(runs):
    runs.deploy("chain", CHAIN)
    run_id = runs.start("chain", {"topic": "owls"}, mode="step")["run_id"]

    runs.decide(
        run_id, runs.pending(run_id, "draft"), {"action": "edit", "outputs": {"output": "bats"}}
    )
    runs.decide(run_id, runs.pending(run_id, "polish"), {"action": "approve"})

    run = runs.api.finished(run_id)
    assert run["outputs"] == {"text": "BATS"}


FRAGILE = fragile()


def test_given_a_failed_run_when_retried_from_a_node_then_it_resumes_with_upstream_outputs(runs):
    runs.deploy("fragile", FRAGILE)
    failed = runs.start("fragile", {"topic": "owls", "n": 0})
    assert failed["status"] == "failed", failed

    status, retry = runs.api.call(
        "POST",
        f"/runs/{failed['run_id']}/retry",
        {"from_node_id": "divide", "variables": {"start": {"n": 2}}},
    )
    assert status in (200, 201, 202), retry

    run = runs.api.finished(retry["run_id"])
    assert run["status"] == "succeeded", run
    assert run["outputs"] == {"text": "5 about owls"}
    assert run["retry_of"] == failed["run_id"]
    _, nodes = runs.api.call("GET", f"/runs/{retry['run_id']}/nodes")
    # prepare did not run again: its output came from the original run.
    assert [node["node_id"] for node in nodes["data"]] == ["divide"]


def _template(node_id: str, template: str, **selectors: list[str]) -> dict[str, Any]:
    return {
        "id": node_id,
        "type": "template-transform",
        "template": template,
        "variables": [
            {"variable": name, "value_selector": selector} for name, selector in selectors.items()
        ],
    }


# start(topic, n) -> a, b (in parallel) -> join (fails when n is 0) -> end(text)
FRAGILE_FAN: dict[str, Any] = {
    "name": "fragile fan",
    "inputs": FRAGILE["inputs"],
    "nodes": [
        {"id": "start", "type": "start"},
        _template("a", "A {{ topic }}", topic=["start", "topic"]),
        _template("b", "B {{ topic }}", topic=["start", "topic"]),
        _template(
            "join",
            "{{ 10 // n }} {{ a }} {{ b }}",
            n=["start", "n"],
            a=["a", "output"],
            b=["b", "output"],
        ),
        {
            "id": "end",
            "type": "end",
            "outputs": [{"variable": "text", "value_selector": ["join", "output"]}],
        },
    ],
    "edges": [
        {"source": "start", "target": "a"},
        {"source": "start", "target": "b"},
        {"source": "a", "target": "join"},
        {"source": "b", "target": "join"},
        {"source": "join", "target": "end"},
    ],
}


def test_given_a_failed_run_when_retried_after_a_parallel_then_the_branch_outputs_are_kept(runs):
    runs.deploy("fragile-fan", FRAGILE_FAN)
    failed = runs.start("fragile-fan", {"topic": "owls", "n": 0})
    assert failed["status"] == "failed", failed

    status, retry = runs.api.call(
        "POST",
        f"/runs/{failed['run_id']}/retry",
        {"from_node_id": "join", "variables": {"start": {"n": 5}}},
    )
    assert status in (200, 201, 202), retry

    run = runs.api.finished(retry["run_id"])
    assert (run["status"], run["outputs"]) == ("succeeded", {"text": "2 A owls B owls"}), run
    _, nodes = runs.api.call("GET", f"/runs/{retry['run_id']}/nodes")
    assert [node["node_id"] for node in nodes["data"]] == ["join"]
