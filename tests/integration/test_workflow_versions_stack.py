"""Workflow versions through the whole template stack on moto: PUT /workflows/{id} makes a new
version, runs pin a version, a racing update answers 409, and a retry of an old version's run
resumes on that version."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from signoff.local.provision import StackPlan
from signoff.store.runs import DynamoRunRepository
from tests.support.review_machines import wait_for
from tests.support.stack_api import StackApi
from tests.support.workflows import fragile

pytestmark = pytest.mark.integration

TENANT = "tenant-a"
REGION = "us-east-1"


def runs_table(plan: StackPlan) -> DynamoRunRepository:
    return DynamoRunRepository(
        plan.tables["RunsTable"].table_name, boto3.client("dynamodb", region_name=REGION)
    )


@pytest.fixture
def api(stack: StackPlan) -> StackApi:
    api = StackApi(stack, key_id="key_editor")
    status, body = api.call("POST", "/workflows", {**fragile("v1"), "id": "fragile"})
    assert status == 201, body
    return api


def test_given_a_put_then_version_2_is_the_newest_and_both_versions_run_by_pin(api):
    status, updated, headers = api.request("PUT", "/workflows/fragile", fragile("v2"))
    assert status == 200, updated

    newest = api.call("POST", "/workflows/fragile/runs", {"inputs": {"topic": "owls", "n": 2}})[1]
    pinned = api.call(
        "POST", "/workflows/fragile/runs", {"inputs": {"topic": "owls", "n": 2}, "version": 1}
    )[1]
    missing = api.call(
        "POST", "/workflows/fragile/runs", {"inputs": {"topic": "owls", "n": 2}, "version": 3}
    )

    assert (updated["version"], updated["name"], headers.get("ETag")) == (2, "fragile v2", '"2"')
    assert (newest["workflow_version"], newest["outputs"]) == (2, {"text": "5 v2: v2 about owls"})
    assert (pinned["workflow_version"], pinned["outputs"]) == (1, {"text": "5 v1: v1 about owls"})
    assert api.call("GET", f"/runs/{pinned['run_id']}")[1]["workflow_version"] == 1
    assert missing[0] == 404
    assert missing[1]["code"] == "workflow_version_not_found"
    assert "3" in missing[1]["message"]


def test_given_versions_then_they_are_listed_and_each_reads_back_its_graph(api):
    _, first, _ = api.request("GET", "/workflows/fragile")
    api.call("PUT", "/workflows/fragile", fragile("v2"))

    status, listed = api.call("GET", "/workflows/fragile/versions")
    _, version_1 = api.call("GET", "/workflows/fragile/versions/1")
    missing = api.call("GET", "/workflows/fragile/versions/9")
    not_a_number = api.call("GET", "/workflows/fragile/versions/one")

    assert status == 200
    assert [entry["version"] for entry in listed["data"]] == [1, 2]
    assert listed["data"][0]["version_id"] == first["version_id"]
    assert listed["data"][1]["created_by"] == "key_editor"
    assert len({entry["version_id"] for entry in listed["data"]}) == 2
    assert version_1["graph"]["nodes"][1]["template"] == "v1 about {{ topic }}"
    assert version_1["workflow_id"] == "fragile"
    assert (missing[0], missing[1]["code"]) == (404, "workflow_version_not_found")
    assert not_a_number[0] == 400


def test_given_if_match_of_a_version_gone_by_then_409_and_the_workflow_is_unchanged(api):
    first = api.call("PUT", "/workflows/fragile", fragile("v2"), headers={"If-Match": '"1"'})
    racing = api.call("PUT", "/workflows/fragile", fragile("v3"), headers={"If-Match": '"1"'})
    garbled = api.call("PUT", "/workflows/fragile", fragile("v3"), headers={"If-Match": "soon"})

    assert first[0] == 200, first
    assert racing[0] == 409
    assert racing[1]["code"] == "workflow_version_conflict"
    assert (garbled[0], garbled[1]["field"]) == (400, "If-Match")
    assert api.call("GET", "/workflows/fragile")[1]["name"] == "fragile v2"


def test_given_an_invalid_graph_when_put_then_400_with_the_issues_and_no_version(api):
    broken = fragile("v2")
    broken["edges"].append({"source": "divide", "target": "nowhere"})

    status, body = api.call("PUT", "/workflows/fragile", broken)

    assert (status, body["code"]) == (400, "invalid_graph")
    assert [v["version"] for v in api.call("GET", "/workflows/fragile/versions")[1]["data"]] == [1]


def test_given_a_yaml_body_when_put_then_it_becomes_the_next_version(api):
    import yaml

    status, body, _ = api.request(
        "PUT",
        "/workflows/fragile",
        headers={"Content-Type": "application/yaml"},
        raw_body=yaml.safe_dump(fragile("yaml")),
    )

    assert status == 200, body
    assert (body["version"], body["name"]) == (2, "fragile yaml")


def test_given_a_failed_v1_run_when_retried_after_v2_exists_then_it_resumes_on_v1(api, stack):
    failed = api.call("POST", "/workflows/fragile/runs", {"inputs": {"topic": "owls", "n": 0}})[1]
    assert failed["status"] == "failed", failed
    assert api.call("PUT", "/workflows/fragile", fragile("v2"))[0] == 200

    status, retry = api.call(
        "POST",
        f"/runs/{failed['run_id']}/retry",
        {"from_node_id": "divide", "variables": {"start": {"n": 2}}},
    )
    assert status in (200, 201, 202), retry
    run = api.finished(retry["run_id"])

    assert run["status"] == "succeeded", run
    # divide ran again from version 1's graph, on version 1's prepare output.
    assert run["outputs"] == {"text": "5 v1: v1 about owls"}
    assert run["workflow_version"] == 1
    # The retry's record names that version by its id too, as a started run's does.
    version_1 = api.call("GET", "/workflows/fragile/versions/1")[1]
    record = runs_table(stack).get(TENANT, retry["run_id"])
    assert record.workflow_version_id == version_1["version_id"]
    assert (
        runs_table(stack).get(TENANT, failed["run_id"]).workflow_version_id
        == record.workflow_version_id
    )


def test_given_v2_when_a_step_run_pins_v1_then_it_steps_through_v1s_graph(api):
    assert api.call("PUT", "/workflows/fragile", fragile("v2"))[0] == 200
    newest_step = api.call(
        "POST", "/workflows/fragile/runs", {"inputs": {"topic": "owls", "n": 2}, "mode": "step"}
    )[1]
    pinned_step = api.call(
        "POST",
        "/workflows/fragile/runs",
        {"inputs": {"topic": "owls", "n": 2}, "mode": "step", "version": 1},
    )[1]

    outputs = {}
    for started in (newest_step, pinned_step):
        run_id = started["run_id"]
        for node_id in ("prepare", "divide"):
            review = pending_review(api, run_id, node_id)
            status, body = api.call(
                "POST", f"/runs/{run_id}/reviews/{review['review_id']}", {"action": "approve"}
            )
            assert status == 200, body
        run = api.finished(run_id)
        outputs[run["workflow_version"]] = run["outputs"]

    assert outputs == {2: {"text": "5 v2: v2 about owls"}, 1: {"text": "5 v1: v1 about owls"}}


def pending_review(api: StackApi, run_id: str, node_id: str) -> dict[str, Any]:
    def found() -> dict[str, Any] | None:
        _, body = api.call("GET", f"/runs/{run_id}/reviews")
        matching = [
            review
            for review in body["data"]
            if review["status"] == "pending" and review["node_id"] == node_id
        ]
        return matching[0] if matching else None

    return wait_for(found)


def without_prepare(tag: str) -> dict[str, Any]:
    """A version with no prepare node and its start node renamed `begin`: divide reads the
    topic itself."""
    document = fragile(tag)
    document["nodes"] = [
        {"id": "begin", "type": "start"},
        {
            **document["nodes"][2],
            "variables": [
                {"variable": "n", "value_selector": ["begin", "n"]},
                {"variable": "text", "value_selector": ["begin", "topic"]},
            ],
        },
        document["nodes"][3],
    ]
    document["edges"] = [
        {"source": "begin", "target": "divide"},
        {"source": "divide", "target": "end"},
    ]
    return document


def test_given_a_paused_v1_run_whose_node_v2_removed_then_its_variables_are_still_edited(api):
    run_id = api.call(
        "POST", "/workflows/fragile/runs", {"inputs": {"topic": "owls", "n": 2}, "mode": "step"}
    )[1]["run_id"]
    paused_at_prepare = pending_review(api, run_id, "prepare")
    assert api.call("PUT", "/workflows/fragile", without_prepare("v2"))[0] == 200

    status, changed = api.call(
        "PATCH", f"/runs/{run_id}/variables", {"prepare": {"output": "edited owls"}}
    )
    _, read = api.call("GET", f"/runs/{run_id}/variables")
    unknown = api.call("PATCH", f"/runs/{run_id}/variables", {"begin": {"topic": "bats"}})

    assert status == 200, changed
    assert changed["pending_patch"] == {"prepare": {"output": "edited owls"}}
    # Version 1's start node holds the inputs; version 2's names mean nothing to this run.
    assert read["variables"]["start"] == {"topic": "owls", "n": 2}
    assert read["variables"]["prepare"] == {"output": "edited owls"}
    assert "begin" not in read["variables"]
    assert (unknown[0], unknown[1]["field"]) == (400, "begin")
    for review in (paused_at_prepare, None):
        review = review or pending_review(api, run_id, "divide")
        status, body = api.call(
            "POST", f"/runs/{run_id}/reviews/{review['review_id']}", {"action": "approve"}
        )
        assert status == 200, body
    run = api.finished(run_id)
    assert (run["workflow_version"], run["outputs"]) == (1, {"text": "5 v1: edited owls"})
