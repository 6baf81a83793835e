"""Shared material of the web console's browser tests (tests/e2e/test_console*.py).

Debian's Chromium driven by Playwright for Python, headless, on `signoff dev`. Importing this
module skips the importing test module when Chromium or the console build is missing (outside CI;
in CI, `make test` installs both first, so missing is a failure). A test module takes the fixtures
by name: `browser = console.browser` and `page = console.page` at its top level.
"""

from __future__ import annotations

import json
import os
import re
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from signoff.local.process import DevServer

REPOSITORY = Path(__file__).resolve().parents[2]
CONSOLE_BUILD = REPOSITORY / "console" / "dist" / "index.html"
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = REPOSITORY / "test-output" / "console"
# No network beyond loopback here: Chromium must not try to reach its own services.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
WIDE = {"width": 1280, "height": 800}
NARROW = {"width": 390, "height": 844}
# Generous: the machine is shared, and a run goes through Step Functions in moto.
WAIT_MS = 30_000

T = TypeVar("T")


def _missing_prerequisite() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing: run `make browser`"
    if not CONSOLE_BUILD.exists():
        return "the console is not built: run `make console`"
    return None


_missing = _missing_prerequisite()
if _missing and os.environ.get("CI"):
    # CI runs `make test`, which installs both first: missing there is a failure, not a skip.
    raise RuntimeError(_missing)
if _missing:
    pytest.skip(_missing, allow_module_level=True)

from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright  # noqa: E402

expect.set_options(timeout=WAIT_MS)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=WIDE)
    context.set_default_timeout(WAIT_MS)
    opened = context.new_page()
    try:
        yield opened
    finally:
        context.close()


def shoot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def console_url(server: DevServer, path: str = "/") -> str:
    return f"{server.base_url}/console{path}"


def sign_in(page: Page, server: DevServer, path: str = "/") -> None:
    page.goto(console_url(server, path))
    page.get_by_label("API key", exact=True).fill(server.admin_key)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def pick_file(page: Page, name: str, document: dict[str, Any]) -> None:
    """Choose a workflow file to import, as a person does with the file picker."""
    page.get_by_label("Workflow file (native YAML or JSON)").set_input_files(
        {"name": name, "mimeType": "application/json", "buffer": json.dumps(document).encode()}
    )


def pick_dify_export(page: Page, name: str, text: str) -> None:
    """Choose a Dify DSL export (its YAML text as it is) to import, with the file picker."""
    page.get_by_label("Workflow file (native YAML or JSON)").set_input_files(
        {"name": name, "mimeType": "application/yaml", "buffer": text.encode()}
    )


def drawn_position(page: Page, node_id: str) -> dict[str, float]:
    """Where the graph places a node, in the graph's own coordinates (before zoom and pan)."""
    transform = page.locator(f".react-flow__node[data-id='{node_id}']").evaluate(
        "element => element.style.transform"
    )
    found = re.fullmatch(r"translate\((-?[\d.]+)px, (-?[\d.]+)px\)", transform)
    assert found, f"node {node_id} is drawn with an unexpected transform: {transform!r}"
    return {"x": float(found[1]), "y": float(found[2])}


def shown_whole(card: Locator, frame: Locator) -> bool:
    """Whether `card` lies entirely inside `frame` on the screen (none of it cut off or hidden)."""
    inner, outer = card.bounding_box(), frame.bounding_box()
    if inner is None or outer is None:
        return False
    return (
        inner["x"] >= outer["x"]
        and inner["y"] >= outer["y"]
        and inner["x"] + inner["width"] <= outer["x"] + outer["width"]
        and inner["y"] + inner["height"] <= outer["y"] + outer["height"]
    )


def node(page: Page, node_id: str) -> Locator:
    """A node card drawn in the graph."""
    return page.locator(f".react-flow__node[data-id='{node_id}'] .node-card")


def run_status(page: Page) -> Locator:
    """The run's status badge at the top of a run page."""
    return page.locator(".run-summary [data-status]")


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


def create(api: httpx.Client, document: dict[str, Any]) -> str:
    response = api.post("/workflows", json=document)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def start_blocking(server: DevServer, workflow_id: str, inputs: dict[str, Any], **options) -> str:
    """Start a run over HTTP; its id once the API answers (the end, a pause, or its wait)."""
    with httpx.Client(
        base_url=server.base_url,
        headers={"Authorization": f"Bearer {server.admin_key}"},
        timeout=60,
    ) as client:
        response = client.post(f"/workflows/{workflow_id}/runs", json={"inputs": inputs, **options})
    assert response.status_code in (200, 202), response.text
    return response.json()["run_id"]


def run_of(api: httpx.Client, workflow_id: str, deadline_seconds: float = 30) -> str:
    """The id of the (one) run of `workflow_id`, once it is listed."""
    return wait_until(
        lambda: next(
            (
                run["run_id"]
                for run in api.get("/runs").json()["data"]
                if run["workflow_id"] == workflow_id
            ),
            None,
        ),
        deadline_seconds,
        f"no run of {workflow_id} was listed",
    )


def wait_until(read: Callable[[], T | None], deadline_seconds: float, failure: str) -> T:
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        found = read()
        if found is not None:
            return found
        time.sleep(0.1)
    raise AssertionError(failure)
