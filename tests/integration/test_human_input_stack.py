"""The human-input node through the whole template stack on moto: examples/human_input.yaml is
compiled by the compiler, the run waits on a form, a person submits it over the api function (as
a review decision or by its form token), and the action pressed picks the branch."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

from signoff.errors import FormExpired, FormSubmitted
from signoff.local.provision import StackPlan
from signoff.reviews.decisions import ReviewService
from signoff.reviews.forms import HumanInputForms
from signoff.store.reviews import DynamoReviewRepository
from signoff.store.run_events import DynamoRunEventLog
from signoff.store.runs import DynamoRunRepository
from tests.support.review_machines import wait_for
from tests.support.stack_api import StackApi

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = yaml.safe_load((ROOT / "examples" / "human_input.yaml").read_text(encoding="utf-8"))
TENANT = "tenant-a"
REGION = "us-east-1"


def with_timeout(seconds: int) -> dict[str, Any]:
    document = copy.deepcopy(EXAMPLE)
    form = next(node for node in document["nodes"] if node["type"] == "human-input")
    form.pop("timeout"), form.pop("timeout_unit")
    form["timeout_seconds"] = seconds
    return document


class Forms:
    def __init__(self, plan: StackPlan) -> None:
        self.plan = plan
        self.api = StackApi(plan, key_id="key_admin")

    def deploy(self, document: dict[str, Any], workflow_id: str = "replies") -> None:
        status, body = self.api.call("POST", "/workflows", {**document, "id": workflow_id})
        assert status == 201, body

    def start(self, question: str = "owls", workflow_id: str = "replies") -> str:
        status, body = self.api.call(
            "POST", f"/workflows/{workflow_id}/runs", {"inputs": {"question": question}}
        )
        assert (status, body["status"]) == (202, "paused"), body
        return body["run_id"]

    def pending_form(self, run_id: str) -> dict[str, Any]:
        def found() -> dict[str, Any] | None:
            _, body = self.api.call("GET", f"/runs/{run_id}/reviews")
            pending = [r for r in body["data"] if r["status"] == "pending"]
            return pending[0] if pending else None

        return wait_for(found)

    def events(self, run_id: str) -> list[Any]:
        table = self.plan.tables["RunEventsTable"].table_name
        log = DynamoRunEventLog(table, boto3.client("dynamodb", region_name=REGION))
        return log.read(tenant_id=TENANT, run_id=run_id)

    def service(self) -> HumanInputForms:
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        reviews = DynamoReviewRepository(self.plan.tables["ReviewsTable"].table_name, dynamodb)
        runs = DynamoRunRepository(self.plan.tables["RunsTable"].table_name, dynamodb)
        sfn = boto3.client("stepfunctions", region_name=REGION)
        return HumanInputForms(reviews, runs, ReviewService(reviews, runs, sfn))


@pytest.fixture
def forms(stack: StackPlan) -> Forms:
    forms = Forms(stack)
    forms.deploy(EXAMPLE)
    return forms


def test_given_a_waiting_form_then_it_is_rendered_and_action_a_takes_branch_a(forms):
    run_id = forms.start("owls")

    form = forms.pending_form(run_id)
    assert form["kind"] == "human-input"
    settings = form["settings"]
    assert "**Question:** owls" in settings["form_content"]
    assert "**Draft:** Thank you for asking about owls." in settings["form_content"]
    assert settings["resolved_default_values"] == {
        "reply": "Thank you for asking about owls.",
        "tone": "friendly",
    }
    assert [action["id"] for action in settings["user_actions"]] == ["publish", "reject"]
    assert len(form["form_token"]) >= 43  # 32 random bytes, URL-safe
    assert form["expires_at"] is not None  # 24 hours away

    status, decided = forms.api.call(
        "POST",
        f"/runs/{run_id}/reviews/{form['review_id']}",
        {"action": "submit", "action_id": "publish", "inputs": {"reply": "Yes!", "tone": "formal"}},
    )

    assert status == 200, decided
    assert decided["status"] == "submitted"
    assert decided["inputs"] == {"reply": "Yes!", "tone": "formal"}
    run = forms.api.finished(run_id)
    assert run["status"] == "succeeded", run
    assert run["outputs"] == {
        "published": "[formal] Yes!",
        "rejected": None,
        "expired": None,
        "action": "publish",
    }

    # The run's event log says what was asked (the form, with its token) and what was submitted.
    events = {event.type: event for event in forms.events(run_id)}
    asked = events["review.requested"].data["form"]
    assert asked["form_token"] == form["form_token"]
    assert asked["form_content"] == settings["form_content"]
    assert [action["id"] for action in asked["actions"]] == ["publish", "reject"]
    submitted = events["review.submitted"].data
    assert (submitted["action_id"], submitted["inputs"]) == ("publish", decided["inputs"])


def test_given_a_form_token_then_action_b_takes_branch_b_and_a_second_submit_is_refused(forms):
    run_id = forms.start("bees")
    token = forms.pending_form(run_id)["form_token"]

    status, form = forms.api.call("GET", f"/forms/{token}")
    assert (status, form["status"], form["node_id"]) == (200, "pending", "approval")
    assert form["expiration_time"] > 0

    # The reply is left to its default, the draft the form showed.
    status, submitted = forms.api.call(
        "POST", f"/forms/{token}", {"action_id": "reject", "user": "ada"}
    )
    assert status == 200, submitted
    assert (submitted["status"], submitted["decided_by"]) == ("submitted", "ada")

    run = forms.api.finished(run_id)
    assert run["outputs"]["rejected"] == "Not published: Thank you for asking about bees."
    assert run["outputs"]["published"] is None

    status, again = forms.api.call("POST", f"/forms/{token}", {"action_id": "publish"})
    assert (status, again["code"]) == (409, "human_input_form_submitted")
    with pytest.raises(FormSubmitted):
        forms.service().get(token)
    assert forms.service().find(token).action_id == "reject"


def test_given_a_submission_that_breaks_the_form_then_400_and_the_form_stays_open(forms):
    run_id = forms.start()
    form = forms.pending_form(run_id)
    path = f"/runs/{run_id}/reviews/{form['review_id']}"

    bad_tone = {"action": "submit", "action_id": "publish", "inputs": {"tone": "angry"}}
    status, refused = forms.api.call("POST", path, bad_tone)
    assert (status, refused["code"]) == (400, "invalid_input")
    assert "tone" in refused["message"]
    status, refused = forms.api.call("POST", path, {"action": "submit", "action_id": "ship"})
    assert status == 400

    assert forms.service().get(form["form_token"]).is_open


def test_given_another_tenant_then_the_form_token_finds_nothing(forms):
    run_id = forms.start()
    token = forms.pending_form(run_id)["form_token"]

    other = {"tenant_id": "tenant-b", "key_id": "key_b", "role": "admin"}
    status, _ = forms.api.call("GET", f"/forms/{token}", principal=other)

    assert status == 404


def test_given_nobody_submits_in_time_then_the_timeout_branch_runs(stack):
    forms = Forms(stack)
    forms.deploy(with_timeout(1), workflow_id="hurried")
    run_id = forms.start(workflow_id="hurried")
    token = forms.pending_form(run_id)["form_token"]

    run = forms.api.finished(run_id)

    assert run["status"] == "succeeded", run
    assert run["outputs"]["expired"] == "Nobody answered in time."
    assert run["outputs"]["action"] == "__timeout"
    with pytest.raises(FormExpired):
        forms.service().get(token)
    status, refused = forms.api.call("POST", f"/forms/{token}", {"action_id": "publish"})
    assert (status, refused["code"]) == (409, "human_input_form_expired")


def test_given_no_timeout_branch_when_nobody_submits_then_the_node_fails(stack):
    document = with_timeout(1)
    document["edges"] = [e for e in document["edges"] if e.get("sourceHandle") != "__timeout"]
    document["nodes"] = [n for n in document["nodes"] if n["id"] != "expired"]
    end = next(n for n in document["nodes"] if n["id"] == "end")
    end["outputs"] = [o for o in end["outputs"] if o["variable"] != "expired"]
    document["edges"] = [e for e in document["edges"] if e["source"] != "expired"]
    forms = Forms(stack)
    forms.deploy(document, workflow_id="strict")
    run_id = forms.start(workflow_id="strict")

    run = forms.api.finished(run_id)

    assert run["status"] == "failed", run
    assert run["error"]["node_id"] == "approval"
    assert run["error"]["type"] == "HumanInputTimedOut"


def test_given_a_reviewer_token_then_it_decides_once_and_names_who_decided(forms):
    first, second = forms.start("owls"), forms.start("cats")
    token_principal = {
        "tenant_id": TENANT,
        "key_id": "key_admin",
        "role": "token",
        "scopes": f"runs:{first}:reviews runs:{second}:reviews",
        "subject": "ada@example.com",
        "token_id": "tok_reviewer_1",
    }
    review = forms.pending_form(first)
    decision = {"action": "submit", "action_id": "publish", "inputs": {"tone": "formal"}}

    status, decided = forms.api.call(
        "POST", f"/runs/{first}/reviews/{review['review_id']}", decision, principal=token_principal
    )
    assert status == 200, decided
    assert decided["decided_by"] == "ada@example.com"
    assert "form_token" not in decided or decided["form_token"] is None
    # The same decision sent again (a retried request) answers the first response.
    status, replayed = forms.api.call(
        "POST", f"/runs/{first}/reviews/{review['review_id']}", decision, principal=token_principal
    )
    assert (status, replayed) == (200, decided)

    # It reaches the second run too, but it has made its decision: refused, nothing changes.
    other = forms.pending_form(second)
    status, refused = forms.api.call(
        "POST", f"/runs/{second}/reviews/{other['review_id']}", decision, principal=token_principal
    )
    assert (status, refused["code"]) == (403, "forbidden")
    assert "decision already" in refused["message"]
    assert forms.pending_form(second)["review_id"] == other["review_id"]
    # A token scoped to another run does not reach this one at all.
    elsewhere = {**token_principal, "scopes": f"runs:{first}:reviews", "token_id": "tok_2"}
    status, _ = forms.api.call(
        "POST", f"/runs/{second}/reviews/{other['review_id']}", decision, principal=elsewhere
    )
    assert status == 403
    status, listed = forms.api.call("GET", f"/runs/{first}/reviews", principal=token_principal)
    assert status == 200
    assert all(item.get("form_token") is None for item in listed["data"])


def test_given_an_idempotency_key_then_a_repeated_decision_answers_the_first_response(forms):
    run_id = forms.start()
    review = forms.pending_form(run_id)
    path = f"/runs/{run_id}/reviews/{review['review_id']}"
    key = {"Idempotency-Key": "decide-once-1"}
    decision = {"action": "submit", "action_id": "reject", "inputs": {}}

    first = forms.api.call("POST", path, decision, headers=key)
    again = forms.api.call("POST", path, decision, headers=key)
    other = forms.api.call("POST", path, {**decision, "action_id": "publish"}, headers=key)
    unkeyed = forms.api.call("POST", path, decision)

    assert first[0] == 200
    assert again == first
    assert other[0] == 422
    assert unkeyed[0] == 409
