"""The review lowering and the step and resume variants, on the compiled definition's shape
(their behaviour runs in moto: tests/integration/test_review_lowering.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from signoff.compiler import CompileTarget, compile_workflow
from signoff.graph import load_workflow_file, parse_workflow

ROOT = Path(__file__).resolve().parents[2]
TARGET = CompileTarget("arn:node", "arn:settle", "arn:review")
WAIT = "arn:aws:states:::lambda:invoke.waitForTaskToken"


def review_example(**settings):
    workflow = load_workflow_file(ROOT / "examples" / "review.yaml")
    document = workflow.model_dump(mode="json")
    draft = next(node for node in document["nodes"] if node["id"] == "draft")
    draft["review"] = {**draft["review"], **settings}
    return parse_workflow(document)


def waits(definition):
    return [name for name, state in definition["States"].items() if state.get("Resource") == WAIT]


def test_given_an_unknown_variant_then_value_error():
    with pytest.raises(ValueError, match="no state machine variant"):
        compile_workflow(load_workflow_file(ROOT / "examples" / "hello.yaml"), TARGET, "later")


def test_given_a_graph_without_review_then_normal_has_no_wait_and_step_one_per_work_node():
    hello = load_workflow_file(ROOT / "examples" / "hello.yaml")
    normal = compile_workflow(hello, TARGET)
    step = compile_workflow(hello, TARGET, variant="step")

    assert waits(normal) == []
    # Without the review ARN the normal variant compiles as before.
    assert compile_workflow(hello, CompileTarget("arn:node", "arn:settle")) == normal
    assert sorted(waits(step)) == ["Step greet", "Step greet_world", "Step normalize"]
    assert set(step["States"]) - set(normal["States"]) == set(waits(step))
    assert step["States"]["Step normalize"]["Arguments"]["Payload"]["kind"] == "step"


def test_given_a_reviewed_node_then_a_wait_with_its_timeout_and_expiry_then_a_decision():
    definition = compile_workflow(review_example(timeout=30, on_timeout="fail"), TARGET)
    states = definition["States"]

    assert states["draft"]["Next"] == "Review draft"
    assert states["draft"]["Arguments"]["Payload"]["feedback"] == "{% $fb_draft %}"
    wait = states["Review draft"]
    assert (wait["Resource"], wait["TimeoutSeconds"]) == (WAIT, 30)
    payload = wait["Arguments"]["Payload"]
    assert (payload["kind"], payload["round"], payload["settings"]["max_rounds"]) == (
        "review",
        "{% $round_draft %}",
        3,
    )
    assert wait["Catch"][0] == {"ErrorEquals": ["States.Timeout"], "Next": "Expire draft review"}
    assert states["Expire draft review"]["Next"] == "Fail draft review"
    assert states["Fail draft review"]["Assign"]["failure"]["error"] == "ReviewTimedOut"
    rules = states["Decide on draft"]["Choices"]
    assert rules[0]["Next"] == "draft"
    assert "$round_draft < 3" in rules[0]["Condition"]
    assert [rule["Next"] for rule in rules[1:]] == ["end", "end"]
    assert "patch.start" in json.dumps(rules[-1]["Assign"])


def test_given_on_max_rounds_fail_then_a_revise_past_the_rounds_fails_the_run():
    states = compile_workflow(review_example(on_max_rounds="fail"), TARGET)["States"]

    rules = states["Decide on draft"]["Choices"]
    assert rules[1]["Next"] == "Fail draft review"
    failure = states["Fail draft review"]["Assign"]["failure"]
    assert failure["error"] == "ReviewRoundsExhausted"


def test_given_a_reviewed_workflow_without_the_review_function_then_a_clear_error():
    with pytest.raises(ValueError, match="review function"):
        compile_workflow(review_example(), CompileTarget("arn:node", "arn:settle"))


def test_given_the_resume_variant_then_init_takes_the_given_variables_and_jumps_to_the_node():
    states = compile_workflow(
        load_workflow_file(ROOT / "examples" / "hello.yaml"), TARGET, variant="resume"
    )["States"]

    assert states["Init"]["Next"] == "Resume at node"
    assert "resume.variables.normalize" in states["Init"]["Assign"]["n_normalize"]
    assert "resume.taken.has_name" in states["Init"]["Assign"]["r_has_name"]
    targets = {rule["Next"] for rule in states["Resume at node"]["Choices"]}
    assert {"normalize", "has_name", "greet", "greet_world"} <= targets
