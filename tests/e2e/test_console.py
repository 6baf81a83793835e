"""The web console in a real browser (Debian's Chromium, driven by Playwright) on `signoff dev`.

Each stage of a run page is saved as a screenshot under test-output/console/ for a person to look
at. The console must be built (`make console`) and Chromium installed (`make browser`); `make test`
does both first.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from signoff.local.process import DevServer
from tests.support import console
from tests.support.console import (
    NARROW,
    console_url,
    create,
    node,
    pick_file,
    run_of,
    shoot,
    sign_in,
    start_blocking,
    unique,
)
from tests.support.workflows import greeter, raising

pytestmark = pytest.mark.e2e

browser = console.browser
page = console.page


# ---------------------------------------------------------------------------------- sign in


def test_given_a_deep_link_then_sign_in_refuses_a_wrong_key_and_keeps_the_right_one_in_the_tab(
    page: Page, local_cloud: DevServer
):
    page.goto(console_url(local_cloud, "/runs"))
    expect(page.get_by_role("heading", name="Sign in with an API key")).to_be_visible()

    page.get_by_label("API key", exact=True).fill("sk_not_a_real_key")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("401")

    page.get_by_label("API key", exact=True).fill(local_cloud.admin_key)
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("heading", name="Runs", exact=True)).to_be_visible()
    stored = page.evaluate("() => window.sessionStorage.getItem('signoff.console.apiKey')")
    assert stored == local_cloud.admin_key
    assert local_cloud.admin_key not in page.url
    assert page.evaluate("() => window.localStorage.length") == 0

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("API key", exact=True)).to_be_visible()
    assert page.evaluate("() => window.sessionStorage.getItem('signoff.console.apiKey')") is None


# ---------------------------------------------------------------------------------- workflows


BROKEN = {
    "name": "broken",
    "inputs": [{"variable": "name", "type": "string"}],
    "nodes": [
        {"id": "start", "type": "start"},
        {"id": "mystery", "type": "no-such-type"},
        {
            "id": "greet",
            "type": "template-transform",
            "template": "Hello {{ name }}",
            "variables": [{"variable": "name", "value_selector": ["start", "nickname"]}],
        },
    ],
    "edges": [
        {"source": "start", "target": "mystery"},
        {"source": "mystery", "target": "greet"},
        {"source": "greet", "target": "the_end"},
    ],
}


def test_given_a_broken_workflow_when_imported_then_each_issue_shows_on_its_node_and_in_the_list(
    page: Page, local_cloud: DevServer
):
    sign_in(page, local_cloud)
    pick_file(page, "broken.json", BROKEN)
    expect(page.get_by_label("Workflow id")).to_have_value("broken")
    expect(node(page, "mystery")).to_be_visible()  # the preview, before anything is sent

    page.get_by_role("button", name="Import").click()

    expect(page.get_by_role("alert").first).to_contain_text("400 invalid_graph")
    listed = page.locator(".issue-list li")
    expect(listed.first).to_be_visible()
    codes = listed.evaluate_all("items => items.map(item => item.dataset.issueCode)")
    assert {"unknown_node_type", "dangling_edge", "bad_selector", "missing_end"} <= set(codes)
    expect(page.locator(".issue-list li[data-issue-code='missing_end']")).to_contain_text(
        "whole graph"
    )
    expect(node(page, "mystery").locator(".node-card-issues")).to_contain_text("unknown_node_type")
    expect(node(page, "greet").locator(".node-card-issues")).to_contain_text("bad_selector")
    expect(node(page, "greet").locator(".node-card-issues")).to_contain_text("dangling_edge")
    expect(node(page, "start").locator(".node-card-issues")).to_have_count(0)
    shoot(page, "import-broken")


def test_given_a_valid_file_when_imported_then_its_page_shows_its_graph_and_run_form(
    page: Page, local_cloud: DevServer
):
    workflow_id = unique("greeter")
    document = greeter()
    document.pop("id")
    sign_in(page, local_cloud)
    pick_file(page, "greeter.json", document)
    page.get_by_label("Workflow id").fill(workflow_id)

    page.get_by_role("button", name="Import").click()

    expect(page).to_have_url(re.compile(f"/console/workflows/{workflow_id}$"))
    expect(page.get_by_role("heading", name="greeter", exact=True)).to_be_visible()
    for node_id in ("start", "greet", "end"):
        expect(node(page, node_id)).to_be_visible()
    expect(page.get_by_label("name (required)")).to_be_visible()
    expect(page.get_by_label("times (optional)")).to_have_value("1")
    step_mode = page.get_by_label("Step mode (pause after every node)")
    expect(step_mode).to_be_enabled()

    # Importing the same id again is a conflict, said plainly.
    page.goto(console_url(local_cloud, "/workflows"))
    pick_file(page, "greeter.json", document)
    page.get_by_label("Workflow id").fill(workflow_id)
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("alert").first).to_contain_text("409")


# ---------------------------------------------------------------------------------- runs


def test_given_hello_when_run_from_its_form_then_the_run_page_shows_every_node_state_and_details(
    page: Page, local_cloud: DevServer
):
    sign_in(page, local_cloud, "/workflows/hello")
    page.get_by_label("Your name (optional)").fill("Ada")
    page.get_by_role("button", name="Start run").click()

    expect(page).to_have_url(re.compile(r"/console/runs/[0-9a-f-]+$"))
    expect(page.locator(".run-summary [data-status]")).to_have_text(re.compile("succeeded"))
    for node_id in ("start", "normalize", "has_name", "greet", "end"):
        expect(node(page, node_id)).to_have_attribute("data-state", "succeeded")
        expect(node(page, node_id)).to_contain_text("succeeded")
    for node_id in ("greet_world", "end_world"):
        expect(node(page, node_id)).to_have_attribute("data-state", "skipped")
        expect(node(page, node_id)).to_contain_text("skipped")
    expect(page.get_by_label("Run outputs")).to_contain_text("Hello, Ada!")
    shoot(page, "run-hello-succeeded")

    node(page, "greet").click()

    details = page.locator("aside.node-details")
    expect(details.get_by_role("heading", name="Greet by name")).to_be_visible()
    expect(details).to_contain_text("Attempt 1: succeeded")
    expect(details.get_by_label("Inputs of attempt 1")).to_contain_text('"name": "Ada"')
    expect(details.get_by_label("Outputs of attempt 1")).to_contain_text("Hello, Ada!")
    expect(details).to_contain_text("Started")
    shoot(page, "run-hello-node-details")

    page.set_viewport_size(NARROW)
    expect(details).to_be_visible()
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow} px on a narrow screen"
    shoot(page, "run-hello-narrow")


def test_given_a_node_is_focused_by_keyboard_when_enter_is_pressed_then_its_details_open(
    page: Page, local_cloud: DevServer
):
    run = start_blocking(local_cloud, "hello", {"name": "Kay"})
    sign_in(page, local_cloud, f"/runs/{run}")
    expect(node(page, "normalize")).to_have_attribute("data-state", "succeeded")

    graph_node = page.locator(".react-flow__node[data-id='normalize']")
    expect(graph_node).to_be_visible()  # drawn once measured: hidden nodes take no focus
    expect(graph_node).to_have_attribute("tabindex", "0")
    graph_node.focus()
    expect(graph_node).to_be_focused()
    page.keyboard.press("Enter")

    details = page.locator("aside.node-details")
    expect(details.get_by_role("heading", name="Normalize the name")).to_be_focused()
    expect(details.get_by_label("Outputs of attempt 1")).to_contain_text('"name": "Kay"')


SLOW_SECONDS = 6


def _slow_workflow(workflow_id: str) -> dict[str, Any]:
    """start -> wait (a code node sleeping a few seconds) -> greet -> end."""
    document = greeter(id=workflow_id, name="slow greeter")
    document["nodes"].insert(
        1,
        {
            "id": "wait",
            "type": "code",
            "title": "Take a moment",
            "code_language": "python3",
            "code": (
                "def main(name: str) -> dict:\n"
                "    import time\n"
                f"    time.sleep({SLOW_SECONDS})\n"
                "    return {'name': name}\n"
            ),
            "variables": [{"variable": "name", "value_selector": ["start", "name"]}],
            "outputs": {"name": {"type": "string"}},
        },
    )
    document["nodes"][2]["variables"] = [{"variable": "name", "value_selector": ["wait", "name"]}]
    document["edges"] = [
        {"source": "start", "target": "wait"},
        {"source": "wait", "target": "greet"},
        {"source": "greet", "target": "end"},
    ]
    return document


def test_given_a_run_in_progress_when_its_page_is_open_then_node_colours_change_without_reloading(
    page: Page, local_cloud: DevServer, api: httpx.Client
):
    workflow_id = create(api, _slow_workflow(unique("slow")))
    sign_in(page, local_cloud)
    with ThreadPoolExecutor(max_workers=1) as pool:
        # The API's run start waits for the end: start it aside and open the page meanwhile.
        started = pool.submit(start_blocking, local_cloud, workflow_id, {"name": "Lin"})
        run_id = run_of(api, workflow_id)
        page.goto(console_url(local_cloud, f"/runs/{run_id}"))

        expect(node(page, "wait")).to_have_attribute("data-state", "running")
        expect(node(page, "wait")).to_contain_text("running")
        expect(node(page, "greet")).to_have_attribute("data-state", "waiting")
        expect(page.locator(".run-summary [data-status]")).to_have_text(re.compile("running"))
        # Pushed by the event stream ("live") where the API has one, else read every second.
        expect(page.locator(".run-summary .live")).to_have_text(
            re.compile("^(live|updating every second)$")
        )
        shoot(page, "run-slow-running")

        expect(node(page, "greet")).to_have_attribute("data-state", "succeeded")
        assert started.result(timeout=60) == run_id
    expect(node(page, "wait")).to_have_attribute("data-state", "succeeded")
    expect(node(page, "end")).to_have_attribute("data-state", "succeeded")
    expect(page.locator(".run-summary [data-status]")).to_have_text(re.compile("succeeded"))
    expect(page.locator(".run-summary .live")).to_have_text("final")
    expect(page.get_by_label("Run outputs")).to_contain_text("Hello, Lin!")
    shoot(page, "run-slow-succeeded")


def test_given_a_node_that_raises_when_run_then_its_node_is_red_with_the_error(
    page: Page, local_cloud: DevServer, api: httpx.Client
):
    workflow_id = create(api, raising(id=unique("raising")))
    sign_in(page, local_cloud, f"/workflows/{workflow_id}")
    page.get_by_label("n (required)").fill("seven")
    page.get_by_role("button", name="Start run").click()
    expect(page.get_by_text("Enter a number.")).to_be_visible()  # checked before sending

    page.get_by_label("n (required)").fill("7")
    page.get_by_role("button", name="Start run").click()

    expect(page.locator(".run-summary [data-status]")).to_have_text(re.compile("failed"))
    expect(node(page, "explode")).to_have_attribute("data-state", "failed")
    expect(node(page, "explode")).to_contain_text("failed")
    color = node(page, "explode").evaluate("element => getComputedStyle(element).borderTopColor")
    assert color == "rgb(207, 34, 46)", color  # the palette's red
    expect(node(page, "end")).to_have_attribute("data-state", "not-run")
    expect(page.get_by_role("alert").first).to_contain_text("cannot handle 7")
    shoot(page, "run-failed")

    node(page, "explode").click()
    details = page.locator("aside.node-details")
    expect(details).to_contain_text("Attempt 1: failed")
    expect(details).to_contain_text("cannot handle 7")
    shoot(page, "run-failed-node-details")

    # The runs page finds it by workflow and status, and not under another status.
    page.goto(console_url(local_cloud, f"/runs?workflow={workflow_id}&status=failed"))
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator("tbody tr [data-status]")).to_have_text(re.compile("failed"))
    page.get_by_label("Status").select_option("succeeded")
    expect(page.get_by_text("No runs match.")).to_be_visible()
    expect(page).to_have_url(re.compile("status=succeeded"))


def test_given_an_unknown_run_then_the_page_says_not_found(page: Page, local_cloud: DevServer):
    sign_in(page, local_cloud, "/runs/no-such-run")

    expect(page.get_by_role("alert")).to_contain_text("Not found (404 not_found)")
