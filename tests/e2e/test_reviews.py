"""Human in the loop over real HTTP through the local cloud: a run pauses for a review, a person
approves, revises or edits it, changes variables while it is paused, cancels it, retries it from
a node, lets a review time out, runs one node alone, or steps through a run node by node.

The workflows are compiled by the compiler: examples/review.yaml (its `draft` node is reviewed)
and, for step mode, a chain of two work nodes run on the compiled "step" variant. The
hand-written machine in tests/support/review_machines.py still pins the contract in the
integration tests (tests/integration/test_reviews_stack.py).
"""

from __future__ import annotations

import copy
import uuid
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
import yaml

from signoff.local.process import DevServer
from tests.support.review_machines import wait_for

pytestmark = pytest.mark.e2e

REVIEW_EXAMPLE = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "examples" / "review.yaml").read_text(encoding="utf-8")
)


def aws(local_cloud: DevServer, service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=local_cloud.aws_endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


class Drafter:
    """The review example as a workflow of its own in the local cloud (`draft` is reviewed)."""

    def __init__(
        self,
        api: httpx.Client,
        local_cloud: DevServer,
        *,
        document: dict[str, Any] | None = None,
        **review: Any,
    ) -> None:
        self.api = api
        self.local_cloud = local_cloud
        self.sfn = aws(local_cloud, "stepfunctions")
        self.workflow_id = f"drafter-{uuid.uuid4().hex[:10]}"
        document = copy.deepcopy(document or REVIEW_EXAMPLE)
        for node in document["nodes"]:
            if node["id"] == "draft" and review:
                node["review"] = {**node.get("review", {}), **review}
        created = api.post("/workflows", json={**document, "id": self.workflow_id})
        assert created.status_code == 201, created.text
        self.state_machine_arn = created.json()["state_machine_arn"]

    def start(self, topic: str = "owls", **options: Any) -> str:
        response = self.api.post(
            f"/workflows/{self.workflow_id}/runs", json={"inputs": {"topic": topic}, **options}
        )
        assert response.status_code in (200, 202), response.text
        return response.json()["run_id"]

    def pending_review(
        self, run_id: str, round_: int = 1, node_id: str = "draft", status: str | None = "pending"
    ) -> dict[str, Any]:
        def found() -> dict[str, Any] | None:
            query = {"status": status} if status else {}
            reviews = self.api.get(f"/runs/{run_id}/reviews", params=query).json()
            pending = [
                review
                for review in reviews["data"]
                if review["round"] == round_ and review["node_id"] == node_id
            ]
            return pending[0] if pending else None

        return wait_for(found)

    def decide(self, run_id: str, review_id: str, decision: dict[str, Any]) -> httpx.Response:
        return self.api.post(f"/runs/{run_id}/reviews/{review_id}", json=decision)

    def finished(self, run_id: str) -> dict[str, Any]:
        def ended() -> dict[str, Any] | None:
            run = self.api.get(f"/runs/{run_id}").json()
            return run if run["status"] in ("succeeded", "failed", "stopped") else None

        return wait_for(ended)


@pytest.fixture
def drafts(api, local_cloud) -> Drafter:
    return Drafter(api, local_cloud)


def test_given_a_review_when_approved_over_http_then_the_run_finishes_and_409_after(drafts):
    run_id = drafts.start("owls")
    review = drafts.pending_review(run_id)

    assert drafts.api.get(f"/runs/{run_id}").json()["status"] == "paused"
    assert review["outputs"] == {"output": "A text about owls."}
    assert "task_token" not in drafts.api.get(f"/runs/{run_id}/reviews").text
    decided = drafts.decide(run_id, review["review_id"], {"action": "approve"})
    assert decided.status_code == 200, decided.text
    run = drafts.finished(run_id)
    assert (run["status"], run["outputs"]) == ("succeeded", {"text": "A text about owls."})
    again = drafts.decide(run_id, review["review_id"], {"action": "approve"})
    assert again.status_code == 409
    assert again.json()["code"] == "review_closed"


def test_given_revise_then_edit_over_http_then_rounds_are_kept_and_the_edit_is_the_output(drafts):
    run_id = drafts.start("owls")
    first = drafts.pending_review(run_id)

    revised = drafts.api.post(
        "/node-confirmation",
        json={"run_id": run_id, "node_id": "draft", "satisfied": False, "feedback": "Shorter."},
    )
    assert revised.status_code == 200, revised.text
    second = drafts.pending_review(run_id, round_=2)
    # The draft ran again with the reviewer's feedback.
    assert second["outputs"] == {"output": "A text about owls. Revised: Shorter."}
    edited = drafts.decide(
        run_id, second["review_id"], {"action": "edit", "outputs": {"output": "Owls."}}
    )
    assert edited.status_code == 200, edited.text

    assert drafts.finished(run_id)["outputs"] == {"text": "Owls."}
    nodes = drafts.api.get(f"/runs/{run_id}/nodes").json()["data"]
    rounds = [(node["round"], node["review"]["decision"]) for node in nodes]
    assert rounds == [(1, "revise"), (2, "edit")]
    assert nodes[0]["review"]["feedback"] == "Shorter."
    assert nodes[0]["review"]["review_id"] == first["review_id"]


def test_given_a_paused_run_when_variables_are_patched_over_http_then_downstream_sees_them(
    drafts,
):
    run_id = drafts.start("owls")
    review = drafts.pending_review(run_id)

    patched = drafts.api.patch(
        f"/runs/{run_id}/variables", json={"draft": {"output": "Owls, patched."}}
    )

    assert patched.status_code == 200, patched.text
    assert patched.json()["edits"][0]["node_id"] == "draft"
    drafts.decide(run_id, review["review_id"], {"action": "approve"})
    assert drafts.finished(run_id)["outputs"] == {"text": "Owls, patched."}
    late = drafts.api.patch(f"/runs/{run_id}/variables", json={"draft": {"output": "late"}})
    assert late.status_code == 409


def test_given_a_paused_run_when_cancelled_over_http_then_stopped_and_a_decision_409(drafts):
    run_id = drafts.start("owls")
    review = drafts.pending_review(run_id)

    cancelled = drafts.api.post(f"/runs/{run_id}/cancel")

    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "stopped"
    assert drafts.decide(run_id, review["review_id"], {"action": "approve"}).status_code == 409
    execution_arn = cancelled.json()["execution_arn"]

    def aborted() -> bool:
        return drafts.sfn.describe_execution(executionArn=execution_arn)["status"] == "ABORTED"

    assert wait_for(aborted)


def test_given_a_short_review_timeout_then_step_functions_expires_it_and_the_run_goes_on(
    api, local_cloud
):
    drafts = Drafter(api, local_cloud, timeout=1, on_timeout="approve")
    run_id = drafts.start("owls")
    # On a busy machine the second may pass before the review is first read: whatever its status.
    review = drafts.pending_review(run_id, status=None)

    run = drafts.finished(run_id)

    assert run["status"] == "succeeded"
    reviews = drafts.api.get(f"/runs/{run_id}/reviews").json()["data"]
    assert [review["status"] for review in reviews] == ["timed_out"]
    assert drafts.decide(run_id, review["review_id"], {"action": "approve"}).status_code == 409


def test_given_a_stopped_run_when_retried_over_http_then_a_linked_run_resumes_at_the_node(drafts):
    run_id = drafts.start("owls")
    drafts.pending_review(run_id)
    drafts.api.post(f"/runs/{run_id}/cancel")

    retry = drafts.api.post(
        f"/runs/{run_id}/retry",
        json={"from_node_id": "draft", "variables": {"start": {"topic": "cats"}}},
    )

    assert retry.status_code == 201, retry.text
    retried = retry.json()["run_id"]
    # The compiled resume variant runs `draft` again with the patched topic, and reviews it.
    review = drafts.pending_review(retried)
    assert review["outputs"] == {"output": "A text about cats."}
    assert drafts.decide(retried, review["review_id"], {"action": "approve"}).status_code == 200
    run = drafts.finished(retried)
    assert (run["status"], run["retry_of"]) == ("succeeded", run_id)
    assert run["outputs"] == {"text": "A text about cats."}


def test_given_a_node_run_alone_over_http_then_its_outputs_and_its_debug_listing(drafts):
    response = drafts.api.post(
        f"/workflows/{drafts.workflow_id}/nodes/draft/run",
        json={"inputs": {"start": {"topic": "bees"}}},
    )

    assert response.status_code == 200, response.text
    debug_run = response.json()
    assert (debug_run["status"], debug_run["outputs"]) == (
        "succeeded",
        {"output": "A text about bees."},
    )
    listed = drafts.api.get(f"/workflows/{drafts.workflow_id}/nodes/draft/runs").json()["data"]
    assert [run["debug_run_id"] for run in listed] == [debug_run["debug_run_id"]]


def test_given_paused_runs_then_the_runs_list_filters_them_by_status_and_workflow(drafts):
    paused = drafts.start("owls")
    drafts.pending_review(paused)

    listed = drafts.api.get(
        "/runs", params={"status": "paused", "workflow_id": drafts.workflow_id}
    ).json()

    assert [run["run_id"] for run in listed["data"]] == [paused]
    assert listed["has_more"] is False


# start(topic) -> draft -> polish -> end(text): two work nodes, no review settings.
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


def test_given_step_mode_over_http_then_every_node_pauses_and_a_patch_changes_what_follows(
    api, local_cloud
):
    chain = Drafter(api, local_cloud, document=CHAIN)
    run_id = chain.start("owls", mode="step")

    draft = chain.pending_review(run_id, node_id="draft")
    assert (draft["kind"], draft["outputs"]) == ("step", {"output": "about owls"})
    assert api.get(f"/runs/{run_id}").json()["status"] == "paused"
    patched = api.patch(f"/runs/{run_id}/variables", json={"draft": {"output": "about bats"}})
    assert patched.status_code == 200, patched.text
    assert chain.decide(run_id, draft["review_id"], {"action": "approve"}).status_code == 200
    polish = chain.pending_review(run_id, node_id="polish")
    # polish ran on the patched draft.
    assert polish["outputs"] == {"output": "ABOUT BATS"}
    assert chain.decide(run_id, polish["review_id"], {"action": "approve"}).status_code == 200

    run = chain.finished(run_id)
    assert (run["status"], run["outputs"]) == ("succeeded", {"text": "ABOUT BATS"})
    assert run["mode"] == "step"
