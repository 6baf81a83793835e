"""Terminal states always arrive, in the local cloud as users run it: an execution that times out
while its run waits on a review sends Step Functions' status change, the reconcile function takes
it from its queue (polled by `signoff dev`), settles the run and closes its review.

Only the reconciler closes a review when a run ends this way (a read of the run would settle it
too, but leaves its reviews open), so the closed review shows the whole path worked.
"""

from __future__ import annotations

import time

import pytest

from tests.support.workflows import greeter

pytestmark = pytest.mark.e2e


def test_given_a_run_waiting_past_its_timeout_then_the_reconciler_ends_it_and_closes_its_review(
    api,
):
    # Given a workflow whose run waits on a review longer than its 3 s timeout
    document = greeter(id=f"reconciled-{time.monotonic_ns()}", name="reconciled", timeout_seconds=3)
    next(node for node in document["nodes"] if node["id"] == "greet")["review"] = {}
    assert api.post("/workflows", json=document).status_code == 201
    started = api.post(f"/workflows/{document['id']}/runs", json={"inputs": {"name": "Ada"}})
    assert started.status_code == 202, started.text
    run_id = started.json()["run_id"]

    # When the timeout passes: its review is closed by the reconciler alone
    deadline = time.monotonic() + 30
    statuses: list[str] = []
    while time.monotonic() < deadline:
        reviews = api.get(f"/runs/{run_id}/reviews").json()["data"]
        statuses = [review["status"] for review in reviews]
        if statuses == ["cancelled"]:
            break
        time.sleep(0.2)
    assert statuses == ["cancelled"]

    # Then the run failed with States.Timeout
    run = api.get(f"/runs/{run_id}").json()
    assert run["status"] == "failed"
    assert run["error"]["type"] == "States.Timeout"
