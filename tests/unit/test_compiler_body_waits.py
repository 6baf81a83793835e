"""Waits on a person inside iteration and loop bodies: a review, a human-input form and step
mode's pauses, per item and per loop round (docs/internals.md, "Reviews")."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from signoff.compiler import CompileTarget, compile_workflow
from signoff.graph import load_workflow_file, parse_workflow
from tests.support.workflows import forms_per_item

ROOT = Path(__file__).resolve().parents[2]


def example() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "examples" / "review_iteration.yaml").read_text("utf-8"))


def compiled(document: dict[str, Any], variant: str = "normal") -> dict[str, Any]:
    return compile_workflow(parse_workflow(document), CompileTarget.placeholders(), variant)


def item_states(definition: dict[str, Any], iteration_id: str = "each") -> dict[str, Any]:
    return definition["States"][f"{iteration_id}: items"]["ItemProcessor"]["States"]


def test_given_a_reviewed_node_in_an_iteration_then_each_item_waits_with_its_index():
    definition = compile_workflow(
        load_workflow_file(ROOT / "examples" / "review_iteration.yaml"),
        CompileTarget.placeholders(),
    )
    states = item_states(definition)

    wait = states["Review line"]
    assert wait["Resource"] == "arn:aws:states:::lambda:invoke.waitForTaskToken"
    scope = wait["Arguments"]["Payload"]["scope"]
    assert scope["iteration_id"] == "each"
    assert scope["iteration_index"] == "{% $i_each.index %}"
    assert scope["path"] == [{"container_id": "each", "index": "{% $i_each.index %}"}]
    # The expiry names the same item, so it closes that item's review.
    expire = states["Expire line review"]["Arguments"]["Payload"]
    assert expire["scope"] == scope
    # Revise goes back to the node's Task, which is not where the item's variables are
    # declared (they would be reset each round): a Pass of its own begins the item.
    begin = states["Begin item of each"]
    assert begin["Next"] == "line"
    assert begin["Assign"]["round_line"] == 1
    assert begin["Assign"]["i_each"] == "{% $states.input %}"
    assert "round_line" not in states["line"]["Assign"]
    revise = states["Decide on line"]["Choices"][0]
    assert revise["Next"] == "line"
    assert revise["Assign"]["round_line"] == "{% $round_line + 1 %}"
    # The Task reads its item from $i_each (its input is the decision on a later round).
    assert states["line"]["Arguments"]["Payload"]["variables"] == {"each": "{% $i_each %}"}


def test_given_a_reviewed_node_at_the_top_level_then_its_payload_has_no_scope():
    document = yaml.safe_load((ROOT / "examples" / "review.yaml").read_text("utf-8"))
    states = compiled(document)["States"]

    assert "scope" not in states["Review draft"]["Arguments"]["Payload"]


def loop_document() -> dict[str, Any]:
    return {
        "name": "loop review",
        "inputs": [{"variable": "topic", "type": "string"}],
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "rounds", "type": "loop", "loop_count": 3, "start_node_id": "rounds_start"},
            {"id": "rounds_start", "type": "loop-start", "parent_id": "rounds"},
            {
                "id": "line",
                "type": "template-transform",
                "parent_id": "rounds",
                "template": "{{ topic }}",
                "variables": [{"variable": "topic", "value_selector": ["start", "topic"]}],
                "review": {"max_rounds": 2},
            },
            {"id": "end", "type": "end"},
        ],
        "edges": [
            {"source": "start", "target": "rounds"},
            {"source": "rounds_start", "target": "line"},
            {"source": "rounds", "target": "end"},
        ],
    }


def test_given_a_reviewed_node_in_a_loop_then_each_round_starts_its_review_rounds_again():
    states = compiled(loop_document())["States"]

    scope = states["Review line"]["Arguments"]["Payload"]["scope"]
    assert scope["loop_id"] == "rounds"
    assert scope["loop_index"] == "{% $n_rounds.loop_round - 1 %}"
    assert scope["path"] == [{"container_id": "rounds", "index": scope["loop_index"]}]
    again = states["rounds: next round?"]["Choices"][-1]
    assert again["Assign"]["round_line"] == 1
    assert again["Assign"]["fb_line"] is None
    assert again["Assign"]["n_line"] is None


def test_given_a_form_in_an_iteration_then_it_reads_its_item_from_the_item_variable():
    document = forms_per_item(form_content="{{#each.item#}}?", timeout_seconds=60)
    states = item_states(compiled(document))

    payload = states["ask"]["Arguments"]["Payload"]
    assert payload["variables"] == {"each": "{% $i_each %}"}
    assert payload["scope"]["path"] == [{"container_id": "each", "index": "{% $i_each.index %}"}]
    # The timeout's expiry (whose input is the error) names the item the same way.
    expire = states["Expire ask review"]["Arguments"]["Payload"]
    assert expire["scope"] == payload["scope"]
    assert states["Fail ask review"]["Type"] == "Pass"


def test_given_step_mode_then_work_nodes_inside_bodies_pause_per_item():
    document = example()
    del document["nodes"][3]["review"]
    normal = item_states(compiled(document))
    step = item_states(compiled(document, "step"))

    assert not any(name.startswith("Step ") for name in normal)
    pause = step["Step line"]
    assert pause["Arguments"]["Payload"]["kind"] == "step"
    assert pause["Arguments"]["Payload"]["scope"]["iteration_index"] == "{% $i_each.index %}"
    assert step["line"]["Next"] == "Step line"


def test_given_nested_containers_then_the_path_names_every_index_outermost_first():
    document = copy.deepcopy(example())
    nodes = document["nodes"]
    line = nodes[3]
    # each -> inner (an iteration over the topic's letters) -> line
    nodes.insert(
        3,
        {
            "id": "inner",
            "type": "iteration",
            "parent_id": "each",
            "iterator_selector": ["each", "item"],
            "output_selector": ["line", "output"],
            "start_node_id": "inner_start",
        },
    )
    nodes.insert(4, {"id": "inner_start", "type": "iteration-start", "parent_id": "inner"})
    line["parent_id"] = "inner"
    line["variables"] = [{"variable": "topic", "value_selector": ["inner", "item"]}]
    document["nodes"][1]["output_selector"] = ["inner", "output"]
    document["edges"] = [
        {"source": "start", "target": "each"},
        {"source": "each_start", "target": "inner"},
        {"source": "inner_start", "target": "line"},
        {"source": "each", "target": "end"},
    ]
    outer = item_states(compiled(document))
    inner = outer["inner: items"]["ItemProcessor"]["States"]

    path = inner["Review line"]["Arguments"]["Payload"]["scope"]["path"]
    assert path == [
        {"container_id": "each", "index": "{% $i_each.index %}"},
        {"container_id": "inner", "index": "{% $i_inner.index %}"},
    ]
