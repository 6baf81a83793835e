"""The human-input node: its model and validation, its lowering, and its form (rendering,
submissions); and who may submit through the seed's /node-confirmation."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from signoff.api.access import check_access
from signoff.auth.principal import Principal
from signoff.compiler import CompileTarget, compile_workflow
from signoff.errors import Forbidden, GraphInvalid, InvalidInput
from signoff.graph import parse_workflow as load_workflow
from signoff.graph.model import HumanInputNode, parse_node
from signoff.reviews.form_content import check_submission, new_form_token, render_form
from tests.support.workflows import forms_per_item

ROOT = Path(__file__).parents[2]
EXAMPLE = yaml.safe_load((ROOT / "examples" / "human_input.yaml").read_text(encoding="utf-8"))


def example(**form_changes: Any) -> dict[str, Any]:
    document = copy.deepcopy(EXAMPLE)
    form = next(node for node in document["nodes"] if node["id"] == "approval")
    for name, value in form_changes.items():
        if value is None:
            form.pop(name, None)
        else:
            form[name] = value
    return document


def compiled(document: dict[str, Any]) -> dict[str, Any]:
    return compile_workflow(load_workflow(document), CompileTarget.placeholders())["States"]


def issues_of(document: dict[str, Any]) -> list[tuple[str, str | None]]:
    with pytest.raises(GraphInvalid) as raised:
        load_workflow(document)
    return [(issue.code, issue.node_id) for issue in raised.value.issues]


# ------------------------------------------------------------------ model and validation


def test_given_a_timeout_in_days_or_seconds_then_the_wait_counts_seconds():
    base = {"id": "h", "type": "human-input", "user_actions": [{"id": "ok"}]}
    in_days = parse_node({**base, "timeout": 2, "timeout_unit": "day"})
    in_seconds = parse_node({**base, "timeout_seconds": 5})
    forever = parse_node(base)

    assert isinstance(in_days, HumanInputNode)
    assert in_days.wait_seconds == 172_800
    assert in_seconds.wait_seconds == 5
    assert forever.wait_seconds is None
    # The timeout branch is a handle only when the form can time out.
    assert in_seconds.handles == ["ok", "__timeout"]
    assert forever.handles == ["ok"]


def test_given_a_form_then_its_fields_and_action_are_its_outputs():
    node = load_workflow(EXAMPLE).node("approval")

    assert node.output_names() == {"reply", "tone", "__action_id"}
    assert node.selectors() == [["draft", "output"]]


def test_given_an_edge_by_a_handle_no_action_has_then_invalid_handle_names_the_node():
    document = example()
    document["edges"].append({"source": "approval", "sourceHandle": "maybe", "target": "end"})

    assert issues_of(document) == [("invalid_handle", "approval")]


def test_given_a_timeout_edge_and_no_timeout_then_it_is_an_invalid_handle():
    assert issues_of(example(timeout=None)) == [("invalid_handle", "approval")]


def test_given_reserved_or_repeated_names_then_each_is_reported_with_the_node():
    document = example(
        user_actions=[{"id": "publish"}, {"id": "reject"}, {"id": "__timeout"}],
        inputs=[
            {"type": "paragraph", "output_variable_name": "reply"},
            {"type": "paragraph", "output_variable_name": "reply"},
            {"type": "paragraph", "output_variable_name": "tone", "options": ["a"]},
            {"type": "paragraph", "output_variable_name": "__action_id"},
        ],
    )

    assert issues_of(document) == [("invalid_human_input", "approval")] * 4


def test_given_a_form_reading_a_node_that_runs_after_it_then_bad_selector():
    document = example(form_content="Published: {{#publish.output#}}")

    assert issues_of(document) == [("bad_selector", "approval")]


def test_given_a_human_input_node_inside_an_iteration_then_it_is_valid():
    document = forms_per_item()

    # One form per item (tests/unit/test_compiler_body_waits.py shows how it compiles).
    states = compiled(document)
    assert "ask" in states["each: items"]["ItemProcessor"]["States"]


# ------------------------------------------------------------------ lowering


def test_given_the_example_then_the_form_waits_on_the_review_function_with_its_variables():
    states = compiled(EXAMPLE)
    wait = states["approval"]

    assert wait["Resource"] == "arn:aws:states:::lambda:invoke.waitForTaskToken"
    assert wait["TimeoutSeconds"] == 86_400
    payload = wait["Arguments"]["Payload"]
    assert payload["kind"] == "human-input"
    assert payload["variables"] == {"draft": "{% $n_draft %}", "start": "{% $n_start %}"}
    assert payload["settings"]["timeout_seconds"] == 86_400
    assert wait["Assign"]["r_approval"] == "{% $states.result.action_id %}"
    assert "$states.result.inputs" in wait["Assign"]["n_approval"]
    assert wait["Catch"][0] == {"ErrorEquals": ["States.Timeout"], "Next": "Expire approval review"}
    # The action picks the branch through the guards of the nodes after the form.
    assert states["Should run publish?"]["Choices"][0]["Condition"] == (
        '{% $r_approval = "publish" %}'
    )
    expire = states["Expire approval review"]
    assert expire["Assign"] == {
        "n_approval": {"__action_id": "__timeout"},
        "r_approval": "__timeout",
    }


def without_timeout_branch(document: dict[str, Any]) -> dict[str, Any]:
    document["edges"] = [e for e in document["edges"] if e.get("sourceHandle") != "__timeout"]
    document["edges"] = [e for e in document["edges"] if e["source"] != "expired"]
    document["nodes"] = [n for n in document["nodes"] if n["id"] != "expired"]
    end = next(n for n in document["nodes"] if n["id"] == "end")
    end["outputs"] = [o for o in end["outputs"] if o["variable"] != "expired"]
    return document


def test_given_no_timeout_branch_then_a_timeout_fails_the_node():
    states = compiled(without_timeout_branch(example()))

    assert states["Expire approval review"]["Next"] == "Fail approval review"
    failure = states["Fail approval review"]["Assign"]["failure"]
    assert (failure["node_id"], failure["error"]) == ("approval", "HumanInputTimedOut")


def test_given_no_timeout_then_the_wait_has_no_timeout_and_no_expiry():
    states = compiled(without_timeout_branch(example(timeout=None)))

    assert "TimeoutSeconds" not in states["approval"]
    assert "Expire approval review" not in states
    assert [c["ErrorEquals"] for c in states["approval"]["Catch"]] == [["States.ALL"]]


# ------------------------------------------------------------------ the form


FORM = load_workflow(EXAMPLE).node("approval").form()
RUN = {"run_id": "r-1", "tenant_id": "t", "user": "ada"}


def rendered(variables: dict[str, Any] | None = None) -> dict[str, Any]:
    given = variables or {"start": {"question": "owls"}, "draft": {"output": "A draft."}}
    return render_form(FORM, given, RUN)


def test_given_the_runs_variables_then_the_content_and_defaults_are_resolved():
    form = rendered()

    assert "**Question:** owls" in form["form_content"]
    assert "**Draft:** A draft." in form["form_content"]
    assert form["resolved_default_values"] == {"reply": "A draft.", "tone": "friendly"}
    assert form["inputs"][0]["default"] == {
        "type": "variable",
        "selector": ["draft", "output"],
        "value": "",
    }
    assert [action["id"] for action in form["user_actions"]] == ["publish", "reject"]


def test_given_a_skipped_node_then_its_reference_renders_empty():
    form = rendered({"start": {"question": "owls"}, "draft": None})

    assert "**Draft:** \n" in form["form_content"]
    assert form["resolved_default_values"]["reply"] == ""


def test_given_a_submission_then_every_field_is_answered_with_defaults_for_the_missing():
    values = check_submission(rendered(), "publish", {"tone": "formal"})

    assert values == {"reply": "A draft.", "tone": "formal"}


@pytest.mark.parametrize(
    ("action_id", "inputs", "field"),
    [
        ("ship", {}, "action_id"),
        (None, {}, "action_id"),
        ("publish", {"mood": "x"}, "inputs.mood"),
        ("publish", {"reply": ""}, "inputs.reply"),
        ("publish", {"reply": 42}, "inputs.reply"),
        ("publish", {"tone": "angry"}, "inputs.tone"),
    ],
)
def test_given_a_submission_that_breaks_the_form_then_the_field_is_named(action_id, inputs, field):
    with pytest.raises(InvalidInput) as refused:
        check_submission(rendered(), action_id, inputs)

    assert refused.value.field == field


def test_given_file_fields_then_files_and_lists_of_files_are_taken():
    form = render_form(
        {
            "inputs": [
                {"type": "file", "output_variable_name": "scan"},
                {"type": "file-list", "output_variable_name": "pages", "number_limits": 2},
            ],
            "user_actions": [{"id": "ok"}],
        },
        {},
        RUN,
    )
    scan = {"type": "document", "transfer_method": "remote_url", "url": "https://x.test/a.pdf"}

    assert check_submission(form, "ok", {"scan": scan, "pages": [scan]})["scan"] == scan
    with pytest.raises(InvalidInput):
        check_submission(form, "ok", {"scan": "a.pdf"})
    with pytest.raises(InvalidInput):
        check_submission(form, "ok", {"pages": [scan, scan, scan]})


def test_form_tokens_are_long_random_and_url_safe():
    tokens = {new_form_token() for _ in range(50)}

    assert len(tokens) == 50
    assert all(
        len(token) >= 43 and token.replace("-", "").replace("_", "").isalnum() for token in tokens
    )


# ------------------------------------------------------------------ access


@pytest.mark.parametrize(
    "principal",
    [
        Principal(tenant_id="t", key_id="k2", role="app", workflow_id="wf-1"),
        Principal(tenant_id="t", key_id="k1", role="token", scopes=("runs:r-1:reviews",)),
    ],
    ids=["app key", "reviewer token"],
)
def test_given_anything_but_an_admin_key_then_node_confirmation_is_forbidden(principal):
    class Runs:
        def workflow_of_run(self, tenant_id: str, run_id: str) -> str:
            return "wf-1"

    with pytest.raises(Forbidden):
        check_access(principal, "POST", "/node-confirmation", {}, Runs())
    admin = Principal(tenant_id="t", key_id="k0", role="admin")
    check_access(admin, "POST", "/node-confirmation", {}, Runs())
