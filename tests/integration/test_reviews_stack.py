"""Reviews through the whole template stack on moto: a run waits on the review function, a person
decides over the api function, and Step Functions goes on.

The workflow's state machine is hand-written (tests/support/review_machines.py) to the contract
the compiler's review lowering follows, so these tests do not depend on that lowering.
"""

from __future__ import annotations

import json
import sys
import threading
from typing import Any

import boto3
import pytest

from signoff.local.provision import StackPlan
from signoff.reviews.decisions import DecisionRequest, ReviewService
from signoff.store.reviews import DynamoReviewRepository, ReviewClosed
from signoff.store.runs import DynamoRunRepository
from signoff.store.workflows import DynamoWorkflowRepository
from tests.support.review_machines import (
    drafter,
    drafter_machine,
    install_workflow,
    resume_machine,
    wait_for,
)
from tests.support.stack_api import StackApi

pytestmark = pytest.mark.integration

TENANT = "tenant-a"
REGION = "us-east-1"


class Drafter:
    """The drafter workflow installed in the stack, with a review wait after `draft`."""

    def __init__(
        self, plan: StackPlan, api: StackApi, *, timeout_seconds: int | None = None
    ) -> None:
        self.plan = plan
        self.api = api
        self.dynamodb = boto3.client("dynamodb", region_name=REGION)
        self.sfn = boto3.client("stepfunctions", region_name=REGION)
        functions = {
            "node_function": plan.function("node").function_arn,
            "review_function": plan.function("review").function_arn,
            "settle_function": plan.function("settle").function_arn,
        }
        self.record = install_workflow(
            self.dynamodb,
            self.sfn,
            workflows_table=plan.tables["WorkflowsTable"].table_name,
            tenant_id=TENANT,
            workflow_id="drafter",
            document=drafter(),
            definition=drafter_machine(**functions, timeout_seconds=timeout_seconds),
            role_arn=plan.roles["WorkflowExecutionRole"].arn,
        )

    def start(self, topic: str = "owls", *, may_finish: bool = False) -> str:
        status, body = self.api.call(
            "POST", "/workflows/drafter/runs", {"inputs": {"topic": topic}}
        )
        # A blocking start answers as soon as the run waits on a person, not at the deadline;
        # with `may_finish`, a review that times out may end the run before that answer.
        expected = [(202, "paused")] + ([(200, "succeeded")] if may_finish else [])
        assert (status, body["status"]) in expected, body
        return body["run_id"]

    def pending_review(self, run_id: str, round_: int = 1) -> dict[str, Any]:
        def found() -> dict[str, Any] | None:
            _, body = self.api.call("GET", f"/runs/{run_id}/reviews", query={"status": "pending"})
            pending = [review for review in body["data"] if review["round"] == round_]
            return pending[0] if pending else None

        return wait_for(found)

    def any_review(self, run_id: str, round_: int = 1) -> dict[str, Any]:
        def found() -> dict[str, Any] | None:
            _, body = self.api.call("GET", f"/runs/{run_id}/reviews")
            matching = [review for review in body["data"] if review["round"] == round_]
            return matching[0] if matching else None

        return wait_for(found)

    def decide(self, run_id: str, review_id: str, decision: dict[str, Any], **kwargs: Any):
        return self.api.call("POST", f"/runs/{run_id}/reviews/{review_id}", decision, **kwargs)


@pytest.fixture
def api(stack: StackPlan) -> StackApi:
    return StackApi(stack, key_id="key_reviewer")


@pytest.fixture
def drafts(stack: StackPlan, api: StackApi) -> Drafter:
    return Drafter(stack, api)


# ------------------------------------------------------------------ the wait and the decision


def test_given_a_node_under_review_when_it_ran_then_the_run_is_paused_with_a_pending_review(
    drafts,
):
    run_id = drafts.start("owls")

    review = drafts.pending_review(run_id)

    assert drafts.api.run(run_id)["status"] == "paused"
    assert review["node_id"] == "draft"
    assert review["kind"] == "review"
    assert review["round"] == 1
    assert review["outputs"] == {"output": "A text about owls."}
    assert review["settings"]["max_rounds"] == 3
    # The task token stays in the Reviews table.
    _, listing = drafts.api.call("GET", f"/runs/{run_id}/reviews")
    assert "task_token" not in json.dumps(listing)
    assert "token" not in json.dumps(listing).lower()


def test_given_a_reviewer_token_when_it_decides_then_the_review_names_the_tokens_subject(drafts):
    run_id = drafts.start("owls")
    review = drafts.pending_review(run_id)
    # What the authorizer puts in the request context for a short-lived token (POST /tokens).
    reviewer = {
        "tenant_id": TENANT,
        "key_id": "key_reviewer",
        "role": "token",
        "scopes": f"runs:{run_id}:reviews",
        "subject": "alice@example.com",
        "token_id": "tok_1",
    }

    status, decided = drafts.decide(
        run_id, review["review_id"], {"action": "approve"}, principal=reviewer
    )

    assert status == 200, decided
    assert decided["decided_by"] == "alice@example.com"


def test_given_a_pending_review_when_approved_then_the_run_goes_on_and_a_second_decision_is_409(
    drafts,
):
    run_id = drafts.start("owls")
    review = drafts.pending_review(run_id)

    status, decided = drafts.decide(run_id, review["review_id"], {"action": "approve"})

    assert status == 200, decided
    assert decided["status"] == "approved"
    assert decided["decided_by"] == "key_reviewer"
    assert decided["decided_at"] is not None
    run = drafts.api.finished(run_id)
    assert run["status"] == "succeeded"
    assert run["outputs"] == {"text": "A text about owls."}
    again, refusal = drafts.decide(
        run_id, review["review_id"], {"action": "revise", "feedback": "x"}
    )
    assert again == 409
    assert refusal["code"] == "review_closed"
    _, reviews = drafts.api.call("GET", f"/runs/{run_id}/reviews")
    assert [review["status"] for review in reviews["data"]] == ["approved"]


def test_given_revise_then_the_node_runs_again_and_every_round_shows_in_the_node_history(drafts):
    run_id = drafts.start("owls")
    first = drafts.pending_review(run_id)

    status, _ = drafts.decide(
        run_id, first["review_id"], {"satisfied": False, "feedback": "Shorter, please."}
    )
    assert status == 200
    second = drafts.pending_review(run_id, round_=2)
    drafts.decide(run_id, second["review_id"], {"satisfied": True}, key_id="key_editor")
    drafts.api.finished(run_id)

    _, nodes = drafts.api.call("GET", f"/runs/{run_id}/nodes")
    drafts_run = [node for node in nodes["data"] if node["node_id"] == "draft"]
    assert [node["round"] for node in drafts_run] == [1, 2]
    assert [node["review"]["decision"] for node in drafts_run] == ["revise", "approve"]
    assert drafts_run[0]["review"]["feedback"] == "Shorter, please."
    assert drafts_run[0]["outputs"] == {"output": "A text about owls."}
    assert [node["review"]["decided_by"] for node in drafts_run] == ["key_reviewer", "key_editor"]
    assert all(node["review"]["decided_at"] for node in drafts_run)


def test_given_edit_then_the_run_goes_on_with_the_edited_outputs(drafts):
    run_id = drafts.start("owls")
    review = drafts.pending_review(run_id)

    status, decided = drafts.decide(
        run_id, review["review_id"], {"action": "edit", "outputs": {"output": "Owls, edited."}}
    )

    assert status == 200, decided
    assert decided["edited_outputs"] == {"output": "Owls, edited."}
    assert drafts.api.finished(run_id)["outputs"] == {"text": "Owls, edited."}


def test_given_a_decision_that_does_not_fit_then_400_and_the_review_stays_pending(drafts):
    run_id = drafts.start("owls")
    review = drafts.pending_review(run_id)

    no_feedback = drafts.decide(run_id, review["review_id"], {"satisfied": False})
    no_outputs = drafts.decide(run_id, review["review_id"], {"action": "edit"})
    a_submission = drafts.decide(run_id, review["review_id"], {"action": "submit"})

    assert [answer[0] for answer in (no_feedback, no_outputs, a_submission)] == [400, 400, 400]
    assert no_feedback[1]["field"] == "feedback"
    assert drafts.pending_review(run_id)["status"] == "pending"


def test_given_the_seeds_node_confirmation_then_the_nodes_pending_review_is_decided(drafts):
    run_id = drafts.start("owls")
    drafts.pending_review(run_id)

    status, decided = drafts.api.call(
        "POST",
        "/node-confirmation",
        {"run_id": run_id, "node_id": "draft", "satisfied": True, "workflow_id": "drafter"},
    )

    assert status == 200, decided
    assert decided["status"] == "approved"
    assert drafts.api.finished(run_id)["status"] == "succeeded"
    again = drafts.api.call(
        "POST", "/node-confirmation", {"run_id": run_id, "node_id": "draft", "satisfied": True}
    )
    assert again[0] == 409
    unknown = drafts.api.call(
        "POST", "/node-confirmation", {"run_id": run_id, "node_id": "nope", "satisfied": True}
    )
    assert unknown[0] == 404


def test_given_another_tenant_then_its_reviews_and_decisions_are_404(drafts):
    run_id = drafts.start("owls")
    review = drafts.pending_review(run_id)

    listing = drafts.api.call("GET", f"/runs/{run_id}/reviews", tenant_id="tenant-b")
    decision = drafts.decide(
        run_id, review["review_id"], {"action": "approve"}, tenant_id="tenant-b"
    )

    assert (listing[0], decision[0]) == (404, 404)
    assert drafts.pending_review(run_id)["status"] == "pending"


# ------------------------------------------------------------------ racing decisions


def test_given_racing_decisions_then_exactly_one_wins_and_step_functions_hears_one(stack, drafts):
    """Threads decide the same review at once, for a few reviews: one 200 each time, the rest
    ReviewClosed, and one SendTaskSuccess per review (counted on the client's calls)."""
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    sfn = boto3.client("stepfunctions", region_name=REGION)
    sent: list[str] = []
    sfn.meta.events.register(
        "provide-client-params.sfn.SendTaskSuccess",
        lambda params, **_: sent.append(params["taskToken"]),
    )
    service = ReviewService(
        DynamoReviewRepository(stack.tables["ReviewsTable"].table_name, dynamodb),
        DynamoRunRepository(stack.tables["RunsTable"].table_name, dynamodb),
        sfn,
    )
    previous_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # switch threads often: make an unguarded race likely
    try:
        for round_number in range(3):
            run_id = drafts.start(f"topic {round_number}")
            review = drafts.pending_review(run_id)
            outcomes = _race(service, run_id, review["review_id"], threads=4)
            assert sorted(outcomes) == ["closed", "closed", "closed", "won"]
            assert drafts.api.finished(run_id)["status"] == "succeeded"
    finally:
        sys.setswitchinterval(previous_interval)
    assert len(sent) == 3
    assert len(set(sent)) == 3


def _race(service: ReviewService, run_id: str, review_id: str, *, threads: int) -> list[str]:
    barrier = threading.Barrier(threads)
    outcomes: list[str] = []
    lock = threading.Lock()

    def decide(index: int) -> None:
        barrier.wait()
        try:
            service.decide(
                TENANT,
                run_id,
                review_id,
                DecisionRequest(action="approve"),
                decided_by=f"key_{index}",
            )
            outcome = "won"
        except ReviewClosed:
            outcome = "closed"
        with lock:
            outcomes.append(outcome)

    workers = [threading.Thread(target=decide, args=(index,)) for index in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    return outcomes


# ------------------------------------------------------------------ variables while paused


def test_given_a_paused_run_when_variables_are_patched_then_the_next_decision_sends_them(drafts):
    run_id = drafts.start("owls")
    review = drafts.pending_review(run_id)

    _, before = drafts.api.call("GET", f"/runs/{run_id}/variables")
    status, patched = drafts.api.call(
        "PATCH", f"/runs/{run_id}/variables", {"draft": {"output": "Patched owls."}}
    )

    assert before["variables"] == {
        "start": {"topic": "owls"},
        "draft": {"output": "A text about owls."},
    }
    assert status == 200, patched
    assert patched["variables"]["draft"] == {"output": "Patched owls."}
    assert patched["pending_patch"] == {"draft": {"output": "Patched owls."}}
    [edit] = patched["edits"]
    assert (edit["node_id"], edit["by"]) == ("draft", "key_reviewer")
    assert edit["at"]

    _, decided = drafts.decide(run_id, review["review_id"], {"action": "approve"})

    assert decided["patch"] == {"draft": {"output": "Patched owls."}}
    assert drafts.api.finished(run_id)["outputs"] == {"text": "Patched owls."}
    _, after = drafts.api.call("GET", f"/runs/{run_id}/variables")
    assert after["pending_patch"] == {}
    assert after["variables"]["draft"] == {"output": "Patched owls."}


def test_given_a_run_not_paused_when_variables_are_patched_then_409(drafts):
    run_id = drafts.start("owls")
    review = drafts.pending_review(run_id)
    drafts.decide(run_id, review["review_id"], {"action": "approve"})
    drafts.api.finished(run_id)

    status, body = drafts.api.call("PATCH", f"/runs/{run_id}/variables", {"draft": {"x": 1}})

    assert status == 409
    assert body["code"] == "run_not_paused"


def test_given_a_patch_naming_an_unknown_node_then_400(drafts):
    run_id = drafts.start("owls")
    drafts.pending_review(run_id)

    status, body = drafts.api.call("PATCH", f"/runs/{run_id}/variables", {"nope": {"x": 1}})

    assert status == 400
    assert body["field"] == "nope"


# ------------------------------------------------------------------ cancel, timeout


def test_given_a_paused_run_when_cancelled_then_stopped_reviews_closed_and_decisions_409(drafts):
    run_id = drafts.start("owls")
    review = drafts.pending_review(run_id)

    status, run = drafts.api.call("POST", f"/runs/{run_id}/cancel")

    assert status == 200, run
    assert run["status"] == "stopped"
    assert run["error"]["type"] == "Cancelled"
    _, reviews = drafts.api.call("GET", f"/runs/{run_id}/reviews")
    assert [review["status"] for review in reviews["data"]] == ["cancelled"]
    decision = drafts.decide(run_id, review["review_id"], {"action": "approve"})
    assert decision[0] == 409
    assert wait_for(
        lambda: (
            drafts.sfn.describe_execution(executionArn=run["execution_arn"])["status"] == "ABORTED"
        )
    )
    assert drafts.api.call("POST", f"/runs/{run_id}/cancel")[0] == 409


def test_given_a_review_that_times_out_then_it_is_timed_out_the_run_goes_on_and_a_decision_409(
    stack, api
):
    drafts = Drafter(stack, api, timeout_seconds=1)
    # On a busy machine the second may pass before the blocking start sees the run paused.
    run_id = drafts.start("owls", may_finish=True)
    # On a busy machine the second may pass before the review is first read: whatever its status.
    review = drafts.any_review(run_id)

    run = drafts.api.finished(run_id)

    assert run["status"] == "succeeded"
    assert run["outputs"] == {"text": "A text about owls."}
    _, reviews = drafts.api.call("GET", f"/runs/{run_id}/reviews")
    assert [review["status"] for review in reviews["data"]] == ["timed_out"]
    assert reviews["data"][0]["expires_at"] is not None
    assert drafts.decide(run_id, review["review_id"], {"action": "approve"})[0] == 409


# ------------------------------------------------------------------ runs listing


def test_given_runs_in_several_statuses_then_the_list_filters_and_pages_them(drafts):
    paused = drafts.start("paused")
    drafts.pending_review(paused)
    finished = drafts.start("finished")
    drafts.decide(finished, drafts.pending_review(finished)["review_id"], {"action": "approve"})
    drafts.api.finished(finished)

    _, only_paused = drafts.api.call("GET", "/runs", query={"status": "paused"})
    _, of_drafter = drafts.api.call("GET", "/runs", query={"workflow_id": "drafter"})
    _, first_page = drafts.api.call("GET", "/runs", query={"limit": "1"})
    _, second_page = drafts.api.call("GET", "/runs", query={"limit": "1", "page": "2"})
    bad = drafts.api.call("GET", "/runs", query={"status": "sleeping"})

    assert [run["run_id"] for run in only_paused["data"]] == [paused]
    assert [run["run_id"] for run in of_drafter["data"]] == [finished, paused]
    assert ([run["run_id"] for run in first_page["data"]], first_page["has_more"]) == (
        [finished],
        True,
    )
    assert ([run["run_id"] for run in second_page["data"]], second_page["has_more"]) == (
        [paused],
        False,
    )
    assert bad[0] == 400


# ------------------------------------------------------------------ single-node runs


def test_given_a_node_when_run_alone_then_its_outputs_timings_and_debug_record(drafts):
    status, debug_run = drafts.api.call(
        "POST", "/workflows/drafter/nodes/draft/run", {"inputs": {"start": {"topic": "bees"}}}
    )
    flat = drafts.api.call(
        "POST", "/workflows/drafter/nodes/draft/run", {"inputs": {"#start.topic#": "wasps"}}
    )[1]

    assert status == 200, debug_run
    assert debug_run["status"] == "succeeded"
    assert debug_run["outputs"] == {"output": "A text about bees."}
    assert debug_run["debug_run_id"].startswith("debug-")
    assert debug_run["elapsed_ms"] is not None
    assert debug_run["started_at"] <= debug_run["finished_at"]
    assert flat["outputs"] == {"output": "A text about wasps."}
    _, listed = drafts.api.call("GET", "/workflows/drafter/nodes/draft/runs")
    assert [run["debug_run_id"] for run in listed["data"]] == [
        flat["debug_run_id"],
        debug_run["debug_run_id"],
    ]
    # A debug run is no run of the workflow.
    _, runs = drafts.api.call("GET", "/runs")
    assert runs["data"] == []


def test_given_a_node_run_alone_without_its_variables_then_its_error_is_answered(drafts):
    status, debug_run = drafts.api.call("POST", "/workflows/drafter/nodes/draft/run", {})

    assert status == 200, debug_run
    assert debug_run["status"] == "failed"
    assert debug_run["outputs"] is None
    assert debug_run["error"]["type"] == "VariableNotFound"


def test_given_a_logic_node_or_an_unknown_node_when_run_alone_then_400_or_404(drafts):
    assert drafts.api.call("POST", "/workflows/drafter/nodes/end/run", {})[0] == 400
    assert drafts.api.call("POST", "/workflows/drafter/nodes/nope/run", {})[0] == 404
    assert drafts.api.call("GET", "/workflows/drafter/nodes/nope/runs")[0] == 404


# ------------------------------------------------------------------ retry from a node


def test_given_a_stopped_run_when_retried_from_a_node_then_a_linked_run_resumes_there(drafts):
    resume = drafts.sfn.create_state_machine(
        name="signoff-test-drafter-resume",
        definition=json.dumps(
            resume_machine(
                node_function=drafts.plan.function("node").function_arn,
                settle_function=drafts.plan.function("settle").function_arn,
            )
        ),
        roleArn=drafts.plan.roles["WorkflowExecutionRole"].arn,
    )
    workflows = DynamoWorkflowRepository(
        drafts.plan.tables["WorkflowsTable"].table_name, drafts.dynamodb
    )
    workflows.set_variant_state_machine(drafts.record, "resume", resume["stateMachineArn"])
    run_id = drafts.start("owls")
    drafts.pending_review(run_id)
    drafts.api.call("POST", f"/runs/{run_id}/cancel")

    status, retry = drafts.api.call(
        "POST",
        f"/runs/{run_id}/retry",
        {"from_node_id": "draft", "variables": {"start": {"topic": "cats"}}},
    )

    assert status == 201, retry
    assert retry["retry_of"] == run_id
    run = drafts.api.finished(retry["run_id"])
    assert run["status"] == "succeeded"
    assert run["outputs"] == {"text": "A text about cats."}
    assert run["retry_of"] == run_id
    execution = drafts.sfn.describe_execution(executionArn=run["execution_arn"])
    assert json.loads(execution["input"])["resume"] == {
        "from_node_id": "draft",
        "variables": {"start": {"topic": "cats"}},
        "taken": {"start": "source"},
    }


def test_given_a_run_that_is_not_failed_or_stopped_when_retried_then_409(drafts):
    run_id = drafts.start("owls")
    drafts.pending_review(run_id)

    status, body = drafts.api.call("POST", f"/runs/{run_id}/retry", {"from_node_id": "draft"})

    assert status == 409
    assert body["code"] == "run_not_retryable"


def test_given_the_api_then_its_openapi_document_describes_the_human_in_the_loop_routes(api):
    status, document = api.call("GET", "/openapi.json")

    assert status == 200
    paths = document["paths"]
    assert {"get", "post"} <= set(paths["/runs/{run_id}/reviews/{review_id}"])
    assert {"get", "patch"} <= set(paths["/runs/{run_id}/variables"])
    for path in (
        "/runs/{run_id}/reviews",
        "/node-confirmation",
        "/runs/{run_id}/cancel",
        "/runs/{run_id}/retry",
        "/workflows/{workflow_id}/nodes/{node_id}/run",
        "/workflows/{workflow_id}/nodes/{node_id}/runs",
    ):
        assert path in paths, path
    assert "task_token" not in json.dumps(document["components"]["schemas"]["ReviewView"])
