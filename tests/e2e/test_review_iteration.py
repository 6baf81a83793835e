"""Reviews inside an iteration over real HTTP through the local cloud:
examples/review_iteration.yaml (every topic's line is reviewed on its own, the items in
parallel). Two reviews are pending at once; the run stays paused until both are decided, one item
is sent back and comes round again alone."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.support.review_machines import wait_for

pytestmark = pytest.mark.e2e

EXAMPLE = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "examples" / "review_iteration.yaml").read_text(
        encoding="utf-8"
    )
)


def pending(api: httpx.Client, run_id: str, count: int) -> list[dict[str, Any]]:
    def found() -> list[dict[str, Any]] | None:
        response = api.get(f"/runs/{run_id}/reviews", params={"status": "pending"})
        assert response.status_code == 200, response.text
        reviews = response.json()["data"]
        return reviews if len(reviews) == count else None

    return sorted(wait_for(found), key=lambda review: review["item_index"])


def test_given_two_items_waiting_then_each_is_decided_alone_and_the_run_waits_for_both(api):
    # Given the example deployed, run over two topics
    workflow_id = f"lines-{uuid.uuid4().hex[:10]}"
    created = api.post("/workflows", json={**EXAMPLE, "id": workflow_id})
    assert created.status_code == 201, created.text
    started = api.post(f"/workflows/{workflow_id}/runs", json={"inputs": {"topics": ["a", "b"]}})
    assert started.status_code in (200, 202), started.text
    run_id = started.json()["run_id"]

    # When both items wait at once
    first, second = pending(api, run_id, 2)
    assert [(r["item_index"], r["container_id"]) for r in (first, second)] == [
        (0, "each"),
        (1, "each"),
    ]
    assert api.get(f"/runs/{run_id}").json()["status"] == "paused"

    # Then the second is sent back and the run stays paused; it comes round again for item 1
    sent_back = api.post(
        f"/runs/{run_id}/reviews/{second['review_id']}",
        json={"action": "revise", "feedback": "Louder."},
    )
    assert sent_back.status_code == 200, sent_back.text
    first_again, second_again = pending(api, run_id, 2)
    assert first_again["review_id"] == first["review_id"]
    assert (second_again["item_index"], second_again["round"]) == (1, 2)
    assert second_again["outputs"] == {"output": "2. About b. Revised: Louder."}
    assert api.get(f"/runs/{run_id}").json()["status"] == "paused"

    # And once both are approved the run ends with each item's line
    for review in (second_again, first):
        decided = api.post(
            f"/runs/{run_id}/reviews/{review['review_id']}", json={"satisfied": True}
        )
        assert decided.status_code == 200, decided.text

    def ended() -> dict[str, Any] | None:
        run = api.get(f"/runs/{run_id}").json()
        return run if run["status"] not in ("pending", "running", "paused") else None

    run = wait_for(ended, timeout=60)
    assert run["status"] == "succeeded", run
    assert run["outputs"] == {"lines": ["1. About a.", "2. About b. Revised: Louder."]}

    # And /nodes shows each item's attempts of the line apart, each with its own item's review
    nodes = api.get(f"/runs/{run_id}/nodes")
    assert nodes.status_code == 200, nodes.text
    lines = [entry for entry in nodes.json()["data"] if entry["node_id"] == "line"]
    assert sorted(
        (entry["item_index"], entry["round"], entry["review"]["item_index"], entry["outputs"])
        for entry in lines
    ) == [
        (0, 1, 0, {"output": "1. About a."}),
        (1, 1, 1, {"output": "2. About b."}),
        (1, 2, 1, {"output": "2. About b. Revised: Louder."}),
    ]
    assert {str(entry["index_path"]) for entry in lines} == {
        str([{"container_id": "each", "index": index}]) for index in (0, 1)
    }
