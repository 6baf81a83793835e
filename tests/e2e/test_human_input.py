"""The human-input node over real HTTP through the local cloud: examples/human_input.yaml waits on
a form; the action a person presses picks the branch that runs with the submitted values; a form
takes one submission; a form nobody submits in time takes the `__timeout` branch; a reviewer link
(a token scoped to one run's reviews) decides once, in its holder's name; a repeated decision
with the same Idempotency-Key answers the first response."""

from __future__ import annotations

import copy
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from signoff.local.process import DevServer
from tests.support.review_machines import wait_for

pytestmark = pytest.mark.e2e

EXAMPLE = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "examples" / "human_input.yaml").read_text(
        encoding="utf-8"
    )
)


class Replies:
    """The human-input example deployed as a workflow of its own."""

    def __init__(self, api: httpx.Client, *, timeout_seconds: int | None = None) -> None:
        self.api = api
        self.workflow_id = f"replies-{uuid.uuid4().hex[:10]}"
        document = copy.deepcopy(EXAMPLE)
        if timeout_seconds is not None:
            form = next(node for node in document["nodes"] if node["id"] == "approval")
            form.pop("timeout"), form.pop("timeout_unit")
            form["timeout_seconds"] = timeout_seconds
        created = api.post("/workflows", json={**document, "id": self.workflow_id})
        assert created.status_code == 201, created.text

    def start(self, question: str = "owls", *, may_finish: bool = False) -> str:
        """Start a run; its blocking answer comes when the run pauses on the form (202). With
        `may_finish`, a form that times out may end the run before that answer (200)."""
        response = self.api.post(
            f"/workflows/{self.workflow_id}/runs", json={"inputs": {"question": question}}
        )
        answered = (response.status_code, response.json().get("status"))
        expected = [(202, "paused")] + ([(200, "succeeded")] if may_finish else [])
        assert answered in expected, response.text
        return response.json()["run_id"]

    def pending_form(self, run_id: str, status: str | None = "pending") -> dict[str, Any]:
        def found() -> dict[str, Any] | None:
            query = {"status": status} if status else {}
            listed = self.api.get(f"/runs/{run_id}/reviews", params=query)
            data = listed.json()["data"]
            return data[0] if data else None

        return wait_for(found)

    def finished(self, run_id: str) -> dict[str, Any]:
        def ended() -> dict[str, Any] | None:
            run = self.api.get(f"/runs/{run_id}").json()
            return run if run["status"] not in ("pending", "running", "paused") else None

        return wait_for(ended, timeout=60)


def test_given_action_a_then_branch_a_runs_with_the_submitted_values(api: httpx.Client):
    replies = Replies(api)
    run_id = replies.start("owls")
    form = replies.pending_form(run_id)
    assert "**Draft:** Thank you for asking about owls." in form["settings"]["form_content"]

    decided = api.post(
        f"/runs/{run_id}/reviews/{form['review_id']}",
        json={"action": "submit", "action_id": "publish", "inputs": {"reply": "Hoot."}},
    )

    assert decided.status_code == 200, decided.text
    run = replies.finished(run_id)
    assert run["status"] == "succeeded", run
    assert run["outputs"]["published"] == "[friendly] Hoot."
    assert run["outputs"]["rejected"] is None
    assert run["outputs"]["action"] == "publish"


def test_given_action_b_by_form_token_then_branch_b_runs_and_a_second_submit_is_409(
    api: httpx.Client,
):
    replies = Replies(api)
    run_id = replies.start("bees")
    token = replies.pending_form(run_id)["form_token"]

    shown = api.get(f"/forms/{token}")
    assert shown.status_code == 200, shown.text
    assert shown.json()["resolved_default_values"]["tone"] == "friendly"
    submitted = api.post(
        f"/forms/{token}",
        json={"action_id": "reject", "inputs": {"reply": "Not now."}, "user": "ada"},
    )
    assert submitted.status_code == 200, submitted.text

    run = replies.finished(run_id)
    assert run["outputs"]["rejected"] == "Not published: Not now."
    assert run["outputs"]["published"] is None
    again = api.post(f"/forms/{token}", json={"action_id": "publish"})
    assert again.status_code == 409
    assert again.json()["code"] == "human_input_form_submitted"
    listed = api.get(f"/runs/{run_id}/reviews").json()["data"]
    decide_again = api.post(
        f"/runs/{run_id}/reviews/{listed[0]['review_id']}",
        json={"action": "submit", "action_id": "publish"},
    )
    assert decide_again.status_code == 409


def test_given_a_short_timeout_then_the_timeout_branch_runs(api: httpx.Client):
    replies = Replies(api, timeout_seconds=1)
    # On a busy machine the second may pass before the blocking start sees the run paused.
    run_id = replies.start(may_finish=True)
    # On a busy machine the second may pass before the form is first read: whatever its status.
    token = replies.pending_form(run_id, status=None)["form_token"]

    run = replies.finished(run_id)

    assert run["status"] == "succeeded", run
    assert run["outputs"]["expired"] == "Nobody answered in time."
    assert run["outputs"]["action"] == "__timeout"
    late = api.post(f"/forms/{token}", json={"action_id": "publish"})
    assert (late.status_code, late.json()["code"]) == (409, "human_input_form_expired")


def test_given_a_reviewer_link_then_its_token_decides_once_in_its_holders_name(
    api: httpx.Client, local_cloud: DevServer
):
    replies = Replies(api)
    first, second = replies.start("owls"), replies.start("cats")
    issued = api.post(
        "/tokens",
        json={
            "scopes": [f"runs:{first}:reviews", f"runs:{second}:reviews"],
            "subject": "ada@example.com",
        },
    )
    assert issued.status_code == 201, issued.text
    reviewer = httpx.Client(
        base_url=local_cloud.base_url,
        headers={"Authorization": f"Bearer {issued.json()['token']}"},
        timeout=30,
    )
    form = replies.pending_form(first)
    other = replies.pending_form(second)
    decision = {"action": "submit", "action_id": "publish", "inputs": {"tone": "formal"}}

    with reviewer:
        decided = reviewer.post(f"/runs/{first}/reviews/{form['review_id']}", json=decision)
        refused = reviewer.post(f"/runs/{second}/reviews/{other['review_id']}", json=decision)

    assert decided.status_code == 200, decided.text
    assert decided.json()["decided_by"] == "ada@example.com"
    assert "form_token" not in decided.json()
    assert refused.status_code == 403
    assert replies.pending_form(second)["review_id"] == other["review_id"]
    assert replies.finished(first)["outputs"]["published"].startswith("[formal] ")


def test_given_the_same_idempotency_key_then_decisions_answer_the_first_response(
    api: httpx.Client,
):
    replies = Replies(api)
    run_id = replies.start()
    form = replies.pending_form(run_id)
    path = f"/runs/{run_id}/reviews/{form['review_id']}"
    headers = {"Idempotency-Key": f"decide-{uuid.uuid4().hex}"}
    decision = {"action": "submit", "action_id": "reject", "inputs": {}}

    first = api.post(path, json=decision, headers=headers)
    again = api.post(path, json=decision, headers=headers)

    assert first.status_code == 200, first.text
    assert (again.status_code, again.json()) == (200, first.json())
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert api.post(path, json=decision).status_code == 409
