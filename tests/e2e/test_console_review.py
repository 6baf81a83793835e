"""A person steps into runs from the web console (Chromium driven by Playwright on `signoff dev`):
reviews (approve, revise with feedback, an answer someone else gave first), step mode with a
variable edit, cancel, retry from a node, a single-node run, and a Dify DSL export imported through
the API: its canvas and a run, or every issue on its node.

Each stage of a run page is saved under test-output/console/ (review-*, step-*, cancel-*...).
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from playwright.sync_api import Page, Response, Route, expect

from signoff.local.process import DevServer
from tests.support import console
from tests.support.console import (
    NARROW,
    create,
    drawn_position,
    node,
    pick_dify_export,
    run_status,
    shoot,
    shown_whole,
    sign_in,
    unique,
    wait_until,
)

pytestmark = pytest.mark.e2e

browser = console.browser
page = console.page

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
REVIEW_EXAMPLE: dict[str, Any] = yaml.safe_load(
    (EXAMPLES / "review.yaml").read_text(encoding="utf-8")
)
HUMAN_INPUT_EXAMPLE: dict[str, Any] = yaml.safe_load(
    (EXAMPLES / "human_input.yaml").read_text(encoding="utf-8")
)

# start(topic) -> draft -> polish -> end(text): two work nodes, for step mode.
CHAIN: dict[str, Any] = {
    "name": "chain",
    "inputs": [{"variable": "topic", "type": "string", "required": True}],
    "nodes": [
        {"id": "start", "type": "start"},
        {
            "id": "draft",
            "type": "template-transform",
            "title": "Draft",
            "template": "about {{ topic }}",
            "variables": [{"variable": "topic", "value_selector": ["start", "topic"]}],
        },
        {
            "id": "polish",
            "type": "template-transform",
            "title": "Polish",
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


def drafter(api: httpx.Client) -> str:
    """examples/review.yaml as a workflow of its own: its `draft` node is reviewed."""
    return create(api, {**copy.deepcopy(REVIEW_EXAMPLE), "id": unique("drafter")})


def start_from_form(page: Page, topic: str, *, step: bool = False) -> str:
    """Start a run from the workflow page's form; the run page's run id."""
    page.get_by_label(re.compile(r"^topic \(required\)$", re.IGNORECASE)).fill(topic)
    if step:
        page.get_by_label("Step mode (pause after every node)").check()
    page.get_by_role("button", name="Start run").click()
    expect(page).to_have_url(re.compile(r"/console/runs/[0-9a-f-]+$"))
    return page.url.rsplit("/", 1)[-1]


def review_panel(page: Page):
    return page.locator("aside.node-details .review-panel")


def pending_review(api: httpx.Client, run_id: str) -> dict[str, Any]:
    def found() -> dict[str, Any] | None:
        listed = api.get(f"/runs/{run_id}/reviews", params={"status": "pending"}).json()["data"]
        return listed[0] if listed else None

    return wait_until(found, 30, f"run {run_id} never paused for a review")


# ---------------------------------------------------------------------------------- reviews


def test_given_a_reviewed_node_when_sent_back_then_approved_then_it_reruns_and_the_run_ends(
    page: Page, local_cloud: DevServer, api: httpx.Client
):
    workflow_id = drafter(api)
    sign_in(page, local_cloud, f"/workflows/{workflow_id}")
    start_from_form(page, "owls")

    # The run pauses on `draft`: its node says so in words and its review panel opens by itself.
    expect(node(page, "draft")).to_have_attribute("data-state", "paused")
    expect(node(page, "draft")).to_contain_text("paused for review")
    expect(node(page, "end")).to_have_attribute("data-state", "waiting")
    expect(run_status(page)).to_have_text(re.compile("paused"))
    panel = review_panel(page)
    expect(panel.get_by_label("Output to review of draft")).to_contain_text("A text about owls.")
    expect(panel).to_contain_text("Round 1 of at most 3")
    shoot(page, "review-paused")

    panel.get_by_role("button", name="Not satisfied").click()
    panel.get_by_label("Feedback: what should change").fill("Mention their eyes.")
    panel.get_by_role("button", name="Send back").click()

    # The node ran again with the feedback and waits for its second round.
    expect(panel.get_by_label("Output to review of draft")).to_contain_text(
        "Revised: Mention their eyes."
    )
    expect(panel).to_contain_text("Round 2 of at most 3")
    expect(page.locator(".status-line")).to_contain_text("sent back with feedback")
    shoot(page, "review-revised")

    panel.get_by_role("button", name="Satisfied", exact=True).click()

    expect(run_status(page)).to_have_text(re.compile("succeeded"))
    expect(node(page, "draft")).to_have_attribute("data-state", "succeeded")
    expect(node(page, "end")).to_have_attribute("data-state", "succeeded")
    expect(page.get_by_label("Run outputs")).to_contain_text("Revised: Mention their eyes.")
    details = page.locator("aside.node-details")
    expect(details).to_contain_text("round 1")
    expect(details).to_contain_text("Review: revise")
    expect(details).to_contain_text("Mention their eyes.")
    expect(details).to_contain_text("Review: approve")
    shoot(page, "review-approved")

    page.set_viewport_size(NARROW)
    expect(details).to_be_visible()
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow} px on a narrow screen"
    shoot(page, "review-approved-narrow")


def test_given_a_review_decided_elsewhere_when_decided_again_then_the_console_says_so_plainly(
    page: Page, local_cloud: DevServer, api: httpx.Client
):
    workflow_id = drafter(api)
    sign_in(page, local_cloud, f"/workflows/{workflow_id}")
    run_id = start_from_form(page, "moths")
    panel = review_panel(page)
    expect(panel.get_by_role("button", name="Edit output")).to_be_visible()

    # Someone else approves first, over the API, between the console's read and the click: the
    # console is kept on its first read of the reviews meanwhile.
    first_read = api.get(f"/runs/{run_id}/reviews").json()
    clicked = False

    def as_first_read(route: Route) -> None:
        # Route handlers run while the test waits on the browser: after the click, the truth.
        if clicked:
            route.continue_()
        else:
            route.fulfill(json=first_read)

    page.route(re.compile(rf"/runs/{run_id}/reviews(\?.*)?$"), as_first_read)
    review = pending_review(api, run_id)
    decided = api.post(f"/runs/{run_id}/reviews/{review['review_id']}", json={"action": "approve"})
    assert decided.status_code == 200, decided.text
    panel.get_by_role("button", name="Edit output").click()
    editor = panel.get_by_label("Edited output (JSON object)")
    editor.fill('{"output": "Moths.",}')
    panel.get_by_role("button", name="Save and continue").click()
    expect(panel.get_by_role("alert")).to_contain_text("not valid JSON")  # checked, not sent
    editor.fill('{"output": "Moths."}')
    panel.get_by_role("button", name="Save and continue").click()
    clicked = True

    expect(page.locator(".status-line")).to_contain_text("already decided")
    expect(review_panel(page)).to_have_count(0)
    expect(run_status(page)).to_have_text(re.compile("succeeded"))
    expect(page.get_by_label("Run outputs")).to_contain_text("A text about moths.")
    shoot(page, "review-already-decided")


def test_given_a_human_input_node_then_its_form_renders_and_an_action_submits_it(
    page: Page, local_cloud: DevServer, api: httpx.Client
):
    workflow_id = create(api, {**copy.deepcopy(HUMAN_INPUT_EXAMPLE), "id": unique("approval")})
    sign_in(page, local_cloud, f"/workflows/{workflow_id}")
    page.get_by_label("Question (required)").fill("owls")
    page.get_by_role("button", name="Start run").click()

    expect(node(page, "approval")).to_have_attribute("data-state", "paused")
    expect(node(page, "approval")).to_contain_text("waiting for input")
    form = page.get_by_role("form", name="Form of Approval")
    expect(form).to_contain_text("A reply is ready")
    expect(form.get_by_label("reply")).to_have_value("Thank you for asking about owls.")
    expect(form.get_by_label("tone")).to_have_value("friendly")
    shoot(page, "human-input-form")

    form.get_by_label("reply").fill("")
    form.get_by_role("button", name="Publish").click()
    expect(form.get_by_role("alert")).to_contain_text("reply is required")  # checked first
    form.get_by_label("reply").fill("Owls are great.")
    form.get_by_label("tone").select_option("formal")
    form.get_by_role("button", name="Publish").click()

    expect(run_status(page)).to_have_text(re.compile("succeeded"))
    expect(node(page, "publish")).to_have_attribute("data-state", "succeeded")
    expect(node(page, "reject")).to_have_attribute("data-state", "skipped")
    expect(page.get_by_label("Run outputs")).to_contain_text("[formal] Owls are great.")
    shoot(page, "human-input-submitted")


# ---------------------------------------------------------------------------------- step mode


def test_given_step_mode_when_a_variable_is_edited_then_the_next_node_sees_the_change(
    page: Page, local_cloud: DevServer, api: httpx.Client
):
    workflow_id = create(api, {**CHAIN, "id": unique("chain")})
    sign_in(page, local_cloud, f"/workflows/{workflow_id}")
    start_from_form(page, "owls", step=True)

    expect(node(page, "draft")).to_have_attribute("data-state", "paused")
    expect(node(page, "draft")).to_contain_text("paused (step mode)")
    expect(node(page, "polish")).to_have_attribute("data-state", "waiting")
    expect(page.locator(".run-summary")).to_contain_text("step mode")
    inspector = page.locator("section.variable-inspector")
    expect(inspector.get_by_label("Outputs of draft")).to_contain_text("about owls")
    shoot(page, "step-paused-draft")

    inspector.get_by_role("button", name="Edit the outputs of draft").click()
    inspector.get_by_label("New outputs of draft (JSON object)").fill('{"output": "about bats"}')
    inspector.get_by_role("button", name="Save the outputs of draft").click()

    expect(inspector.get_by_label("Outputs of draft")).to_contain_text("about bats")
    edits = inspector.locator("table.variable-edits tbody tr")
    expect(edits).to_have_count(1)
    expect(edits.first).to_contain_text("draft")
    expect(edits.first).to_contain_text("about bats")
    shoot(page, "step-variable-edited")

    review_panel(page).get_by_role("button", name="Continue").click()

    # polish ran on the edited draft.
    expect(node(page, "polish")).to_have_attribute("data-state", "paused")
    expect(review_panel(page).get_by_label("Output to review of polish")).to_contain_text(
        "ABOUT BATS"
    )
    shoot(page, "step-paused-polish")
    review_panel(page).get_by_role("button", name="Continue").click()

    expect(run_status(page)).to_have_text(re.compile("succeeded"))
    expect(page.get_by_label("Run outputs")).to_contain_text("ABOUT BATS")
    shoot(page, "step-succeeded")


# ---------------------------------------------------------------------------------- controls


def test_given_a_paused_run_when_cancelled_then_retried_from_a_node_the_new_run_links_back(
    page: Page, local_cloud: DevServer, api: httpx.Client
):
    workflow_id = drafter(api)
    sign_in(page, local_cloud, f"/workflows/{workflow_id}")
    first_run = start_from_form(page, "owls")
    expect(node(page, "draft")).to_have_attribute("data-state", "paused")

    page.get_by_role("button", name="Cancel run").click()
    expect(page.get_by_role("button", name="Yes, cancel the run")).to_be_focused()
    shoot(page, "cancel-confirm")
    page.get_by_role("button", name="Yes, cancel the run").click()

    expect(run_status(page)).to_have_text(re.compile("stopped"))
    expect(page.locator(".status-line")).to_contain_text("cancelled")
    expect(review_panel(page)).to_have_count(0)
    expect(node(page, "draft")).to_have_attribute("data-state", "stopped")
    expect(node(page, "end")).to_have_attribute("data-state", "not-run")
    shoot(page, "cancel-stopped")

    retry = page.locator("#retry-panel")
    expect(retry.get_by_label("Start again at")).to_have_value("draft")
    retry.get_by_label("Variable changes").fill('{"start": {"topic": "cats"}}')
    retry.get_by_role("button", name="Retry from this node").click()

    expect(page).not_to_have_url(re.compile(f"/runs/{first_run}$"))
    expect(page.locator(".retry-of")).to_contain_text(first_run)
    expect(node(page, "draft")).to_have_attribute("data-state", "paused")
    expect(review_panel(page).get_by_label("Output to review of draft")).to_contain_text(
        "A text about cats."
    )
    shoot(page, "retry-paused")
    page.locator(".retry-of a").click()
    expect(page).to_have_url(re.compile(f"/runs/{first_run}$"))
    expect(run_status(page)).to_have_text(re.compile("stopped"))


def test_given_a_node_when_run_alone_from_the_workflow_page_then_its_outputs_and_timings_show(
    page: Page, local_cloud: DevServer, api: httpx.Client
):
    workflow_id = drafter(api)
    sign_in(page, local_cloud, f"/workflows/{workflow_id}")
    node(page, "draft").click()
    settings = page.locator("aside[data-node-id='draft']")

    settings.get_by_label("start.topic").fill("bees")
    settings.get_by_role("button", name="Run node").click()

    result = settings.locator(".node-run-result")
    expect(result).to_have_attribute("data-status", "succeeded")
    expect(result).to_contain_text(re.compile(r"succeeded in \d"))
    expect(result.get_by_label("Outputs of the single run of draft")).to_contain_text(
        "A text about bees."
    )
    shoot(page, "single-node-run")


# ---------------------------------------------------------------------------------- Dify import


DIFY_EXAMPLE = EXAMPLES / "dify" / "01_llm_answer.yml"

# A Dify export signoff refuses: a chat app's answer node, a code node needing extra packages, an
# edge to a node that is not there and an end node reading from one that is not there either.
BROKEN_DIFY_DSL: dict[str, Any] = {
    "app": {"mode": "workflow", "name": "broken shouter"},
    "kind": "app",
    "version": "0.3.0",
    "workflow": {
        "graph": {
            "nodes": [
                {
                    "id": "1",
                    "type": "custom",
                    "position": {"x": 0, "y": 100},
                    "data": {
                        "type": "start",
                        "title": "Start",
                        "variables": [
                            {
                                "variable": "question",
                                "label": "Question",
                                "type": "text-input",
                                "required": True,
                            }
                        ],
                    },
                },
                {
                    "id": "2",
                    "type": "custom",
                    "position": {"x": 300, "y": 0},
                    "data": {
                        "type": "answer",
                        "title": "Chat answer",
                        "answer": "{{#1.question#}}",
                    },
                },
                {
                    "id": "3",
                    "type": "custom",
                    "position": {"x": 300, "y": 200},
                    "data": {
                        "type": "code",
                        "title": "Shout",
                        "code_language": "python3",
                        "code": "def main(text):\n    return {'result': text.upper()}\n",
                        "variables": [{"variable": "text", "value_selector": ["1", "question"]}],
                        "outputs": {"result": {"type": "string"}},
                        "dependencies": [{"name": "numpy", "version": ""}],
                    },
                },
                {
                    "id": "4",
                    "type": "custom",
                    "position": {"x": 600, "y": 200},
                    "data": {
                        "type": "end",
                        "title": "End",
                        "outputs": [{"variable": "text", "value_selector": ["9", "result"]}],
                    },
                },
            ],
            "edges": [
                {"id": "1-2", "source": "1", "target": "2"},
                {"id": "1-3", "source": "1", "target": "3"},
                {"id": "3-4", "source": "3", "target": "4"},
                {"id": "3-7", "source": "3", "target": "7"},
            ],
        }
    },
}


def import_dify(page: Page, name: str, text: str, workflow_id: str) -> Response:
    """Pick a Dify export, name it and import it; the API's answer to the console's request."""
    pick_dify_export(page, name, text)
    expect(page.get_by_role("status").filter(has_text="Dify DSL export")).to_be_visible()
    page.get_by_label("Workflow id").fill(workflow_id)
    with page.expect_response(
        lambda response: (
            response.request.method == "POST"
            and re.search(r"/workflows\?id=", response.url) is not None
        )
    ) as answer:
        page.get_by_role("button", name="Import").click()
    return answer.value


def test_given_a_dify_export_when_imported_then_it_keeps_its_canvas_and_a_run_succeeds(
    page: Page, local_cloud: DevServer, api: httpx.Client
):
    text = DIFY_EXAMPLE.read_text(encoding="utf-8")
    dsl = yaml.safe_load(text)
    workflow_id = unique("dify-llm-answer")
    sign_in(page, local_cloud)

    answer = import_dify(page, DIFY_EXAMPLE.name, text, workflow_id)

    assert answer.status == 201, answer.text()
    assert answer.request.headers["content-type"] == "application/yaml"
    assert answer.request.post_data == text  # the file as it is: the API converts it
    assert answer.url.endswith(f"?id={workflow_id}")
    expect(page).to_have_url(re.compile(rf"/console/workflows/{workflow_id}$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("LLM answer")
    # Every node of Dify's canvas (the note aside) is drawn where Dify had it, with its title.
    drawn = [entry for entry in dsl["workflow"]["graph"]["nodes"] if entry["type"] == "custom"]
    assert len(drawn) == 3
    for entry in drawn:
        card = node(page, entry["id"])
        expect(card.locator(".node-card-title")).to_have_text(entry["data"]["title"])
        expect(card.locator(".node-card-type")).to_have_text(entry["data"]["type"])
        expected = {axis: float(value) for axis, value in entry["position"].items()}
        assert drawn_position(page, entry["id"]) == expected, entry["id"]
    shoot(page, "import-dify-imported")

    page.get_by_label("Question (required)").fill("What is signoff?")
    page.get_by_role("button", name="Start run").click()

    expect(page).to_have_url(re.compile(r"/console/runs/[0-9a-f-]+$"))
    expect(run_status(page)).to_have_text(re.compile("succeeded"))
    for entry in drawn:
        expect(node(page, entry["id"])).to_have_attribute("data-state", "succeeded")
    expect(page.get_by_label("Run outputs")).to_contain_text("echo: Question: What is signoff?")
    run_id = page.url.rsplit("/", 1)[-1]
    run = api.get(f"/runs/{run_id}").json()
    assert (run["workflow_id"], run["status"]) == (workflow_id, "succeeded")
    shoot(page, "import-dify-run-succeeded")


def test_given_a_dify_export_signoff_refuses_when_imported_then_every_issue_shows_on_its_node(
    page: Page, local_cloud: DevServer, api: httpx.Client
):
    workflow_id = unique("broken-shouter")
    sign_in(page, local_cloud)

    answer = import_dify(page, "broken-shouter.yml", yaml.safe_dump(BROKEN_DIFY_DSL), workflow_id)

    assert answer.status == 400, answer.text()
    body = answer.json()
    assert body["code"] == "invalid_graph"
    issues = body["issues"]
    assert {issue["code"] for issue in issues} >= {
        "dify_unsupported_node_type",
        "dify_unsupported_setting",
        "dangling_edge",
        "bad_selector",
    }
    expect(page.get_by_role("alert").first).to_contain_text("400 invalid_graph")
    expect(page.locator(".issues h3")).to_have_text(f"{len(issues)} issues in broken-shouter.yml")
    preview = page.get_by_role("region", name="Graph of broken-shouter.yml")
    for node_id in {issue["node_id"] for issue in issues}:
        on_node = [issue for issue in issues if issue["node_id"] == node_id]
        listed = node(page, node_id).locator(".node-card-issues li")
        expect(listed).to_have_count(len(on_node))
        for shown, issue in zip(listed.all(), on_node, strict=True):
            expect(shown).to_have_text(f"{issue['code']}: {issue['message']}")
        # The preview fits the cards grown by their issues: none is cut off at its edge.
        wait_until(
            lambda node_id=node_id: shown_whole(node(page, node_id), preview) or None,
            10,
            f"the card of {node_id} and its issues are cut off by the preview's edge",
        )
    assert api.get(f"/workflows/{workflow_id}").status_code == 404  # nothing was created
    shoot(page, "import-dify-refused")
