"""Every control-flow shape executes in moto's interpreter: the whole template in moto, the node
function in process, each run checked by its outputs, status and node records."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from moto import mock_aws

from signoff.local.cloud import MOTO_CONFIG
from signoff.local.functions import FunctionRunner, activate
from signoff.local.moto_patches import apply_patches
from signoff.local.provision import StackPlan, plan_stack, provision_stack
from tests.support.stack_api import StackApi

pytestmark = pytest.mark.integration

ROOT = Path(__file__).parents[2]
EXAMPLES = ROOT / "examples"
SHAPES = ROOT / "tests" / "graphs" / "shapes"


REGION = "us-east-1"


@pytest.fixture(scope="module")
def stack() -> Iterator[StackPlan]:
    """The `stack` of conftest.py, provisioned once for this module: its runs share nothing but
    the deployed workflows, which each test deploys under its own id."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
        }.items():
            patch.setenv(name, value)
        patch.delenv("AWS_ENDPOINT_URL", raising=False)
        patch.delenv("AWS_PROFILE", raising=False)
        apply_patches()
        with mock_aws(config=MOTO_CONFIG):
            plan = plan_stack()
            services = ("dynamodb", "iam", "lambda", "s3", "sqs", "events", "logs")
            clients = {name: boto3.client(name, region_name=REGION) for name in services}
            provision_stack(plan, clients)
            previous = activate(FunctionRunner(plan.functions))
            try:
                yield plan
            finally:
                activate(previous)


_deployed: set[str] = set()


def run(stack: StackPlan, path: Path, inputs: dict[str, Any]) -> tuple[dict, list[tuple]]:
    """Deploy a workflow file (once), run it blocking; the run and its node records (id,
    status)."""
    api = StackApi(stack)
    workflow_id = path.stem.replace("_", "-")
    if workflow_id not in _deployed:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        status, body = api.call("POST", "/workflows", {**document, "id": workflow_id})
        assert status == 201, body
        _deployed.add(workflow_id)
    status, result = api.call("POST", f"/workflows/{workflow_id}/runs", {"inputs": inputs})
    assert status == 200, result
    _, nodes = api.call("GET", f"/runs/{result['run_id']}/nodes")
    return result, [(node["node_id"], node["status"]) for node in nodes["data"]]


def statuses(records: list[tuple]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for node_id, status in records:
        found.setdefault(node_id, []).append(status)
    return found


def test_given_a_fan_out_when_run_then_every_branch_ran_and_the_join_saw_them_all(stack):
    result, records = run(stack, EXAMPLES / "fan_out.yaml", {"text": "Hello Big World"})

    assert result["status"] == "succeeded"
    assert result["outputs"] == {
        "report": "HELLO BIG WORLD / hello big world / 3 words",
        "words": 3,
    }
    assert sorted(records) == sorted(
        [(n, "succeeded") for n in ("shout", "whisper", "measure", "report")]
    )
    assert records[-1] == ("report", "succeeded")


@pytest.mark.parametrize(
    "inputs, expected",
    [
        ({"celsius": 35}, "beach"),
        ({"celsius": 20, "raining": True}, "umbrella"),
        ({"celsius": 20, "raining": False}, "walk"),
        ({"celsius": 5}, "coat"),
    ],
)
def test_given_nested_if_else_when_run_then_only_the_branch_taken_runs(stack, inputs, expected):
    result, records = run(stack, EXAMPLES / "nested_if_else.yaml", inputs)

    assert result["status"] == "succeeded"
    taken = {key: value for key, value in result["outputs"].items() if value is not None}
    assert list(taken) == [expected]
    assert records == [(expected, "succeeded")]


def test_given_an_iteration_when_run_then_each_item_runs_its_children_in_order(stack):
    result, records = run(stack, EXAMPLES / "iteration.yaml", {"names": [" ada", "grace ", "x"]})

    assert result["status"] == "succeeded"
    assert result["outputs"] == {
        "greetings": ["1. Hello, Ada!", "2. Hello, Grace!", "3. Hello, X!"]
    }
    assert statuses(records) == {"tidy": ["succeeded"] * 3, "greet": ["succeeded"] * 3}


def test_given_an_empty_list_when_iterated_then_the_output_is_empty(stack):
    result, records = run(stack, EXAMPLES / "iteration.yaml", {"names": []})

    assert result["outputs"] == {"greetings": []}
    assert records == []


def test_given_a_loop_with_break_conditions_when_run_then_it_stops_when_they_hold(stack):
    result, records = run(stack, EXAMPLES / "loop.yaml", {"start_value": 3, "limit": 40})

    assert result["status"] == "succeeded"
    assert result["outputs"] == {"value": 48, "steps": [6, 12, 24, 48], "rounds": 4}
    assert statuses(records) == {"double": ["succeeded"] * 4}


def test_given_a_loop_whose_break_conditions_hold_at_once_then_no_round_runs(stack):
    result, records = run(stack, EXAMPLES / "loop.yaml", {"start_value": 100, "limit": 40})

    assert result["outputs"] == {"value": 100, "steps": [], "rounds": 0}
    assert records == []


def test_given_a_loop_that_never_breaks_then_loop_count_bounds_it(stack):
    result, _ = run(stack, EXAMPLES / "loop.yaml", {"start_value": 1, "limit": 10**9})

    assert result["outputs"]["rounds"] == 10
    assert result["outputs"]["value"] == 1024


@pytest.mark.parametrize("vip, message", [(True, "Welcome back, dear Ada."), (False, "Hello Ada.")])
def test_given_an_aggregator_then_it_takes_the_branch_that_ran(stack, vip, message):
    result, records = run(stack, EXAMPLES / "aggregator.yaml", {"vip": vip, "name": "Ada"})

    assert result["outputs"] == {"message": message, "grouped": {"output": message}, "who": "Ada"}
    assert len(records) == 1  # the aggregators are native: no node record, no Lambda


def test_given_assigner_operations_in_a_loop_then_the_variables_change_as_dify_does(stack):
    result, records = run(stack, EXAMPLES / "assigner.yaml", {"items": ["eggs", "jam"]})

    # ["bread"] + "milk" + ["eggs", "jam"], minus the first; loop-end stops after one round.
    assert result["outputs"] == {
        "basket": ["milk", "eggs", "jam"],
        "count": 2,
        "note": "",
        "rounds": 1,
    }
    assert records == []


def test_given_a_list_operator_then_it_filters_sorts_limits_and_extracts(stack):
    products = [
        {"name": "pear", "price": 3},
        {"name": "apple", "price": 2},
        {"name": "caviar", "price": 90},
        {"name": "bread", "price": 4},
    ]
    result, records = run(stack, EXAMPLES / "list_operator.yaml", {"products": products})

    assert result["outputs"] == {
        "cheapest_two": [{"name": "apple", "price": 2}, {"name": "bread", "price": 4}],
        "first": {"name": "apple", "price": 2},
        "second": {"name": "apple", "price": 2},
    }
    assert records == []


@pytest.mark.parametrize(
    "text, status, outputs, records",
    [
        ("2.5", "succeeded", {"ok": "Parsed 2.5.", "problem": None}, [("parse", "succeeded")]),
        (
            "abc",
            "partial-succeeded",
            {"ok": None, "problem": "Not a number (CodeExecutionError)."},
            [("parse", "exception")],
        ),
    ],
)
def test_given_a_fail_branch_then_a_failure_takes_the_fail_edge(
    stack, text, status, outputs, records
):
    result, found = run(stack, EXAMPLES / "fail_branch.yaml", {"text": text})

    assert result["status"] == status
    assert result["outputs"] == outputs
    assert found[: len(records)] == records
    assert found[-1] == ("ok", "succeeded") if status == "succeeded" else ("explain", "succeeded")


def test_given_a_default_value_strategy_then_the_run_goes_on_with_the_default(stack):
    result, records = run(stack, EXAMPLES / "default_value.yaml", {"a": 1, "b": 0})

    assert result["status"] == "partial-succeeded"
    assert result["outputs"] == {"quotient": 0, "error": "CodeExecutionError"}
    assert records == [("divide", "exception")]


def test_given_retries_then_each_attempt_is_recorded_before_the_default(stack):
    result, records = run(stack, EXAMPLES / "retry.yaml", {"fail": True})

    assert result["status"] == "partial-succeeded"
    assert result["outputs"] == {"answer": "fallback"}
    assert records == [("flaky", "failed"), ("flaky", "failed"), ("flaky", "exception")]


def test_given_an_edge_across_parallel_branches_then_the_join_waits_for_both(stack):
    result, records = run(stack, SHAPES / "parallel_cross_edge.yaml", {"word": "w"})

    assert result["outputs"] == {"out": "a2(a(w))+b2(b(w),a(w))"}
    assert len(records) == 5


def test_given_parallels_nested_with_an_end_in_a_branch_then_both_ends_report(stack):
    result, _ = run(stack, SHAPES / "nested_parallel.yaml", {"word": "ab"})

    assert result["outputs"] == {"both": "LAB|baL & Rab", "right": "Rab"}


def test_given_a_conditional_fan_out_then_the_branches_of_the_case_taken_run(stack):
    result, records = run(stack, SHAPES / "conditional_fan_out.yaml", {"kind": "a"})

    assert result["outputs"] == {"out": "first second"}
    assert sorted(records) == [
        ("1711528914200", "succeeded"),
        ("1711528914300", "succeeded"),
        ("1711528914400", "succeeded"),
    ]


def test_given_iteration_error_modes_then_failed_items_are_null_or_left_out(stack):
    result, records = run(stack, SHAPES / "iteration_error_modes.yaml", {"numbers": [1, 0, 4]})

    assert result["status"] == "succeeded"
    assert result["outputs"] == {"kept": [1, None, 0.25], "dropped": ["#0=1", "#2=0.25"]}
    found = statuses(records)
    assert sorted(found["inverse"]) == ["failed", "succeeded", "succeeded"]
    assert sorted(found["check"]) == ["failed", "succeeded", "succeeded"]
    assert found["label"] == ["succeeded"] * 3
    assert found["pair"] == ["succeeded"] * 2


def test_given_a_loop_with_fan_out_and_a_loop_end_then_it_stops_where_told(stack):
    result, records = run(stack, SHAPES / "loop_with_branches.yaml", {"stop_at": 3})

    assert result["outputs"] == {
        "count": 3,
        "log": ["round 1", "round 2", "round 3"],
        "rounds": 3,
    }
    assert statuses(records) == {"name": ["succeeded"] * 3, "shout": ["succeeded"] * 3}


def test_given_nested_iterations_then_each_inner_item_sees_both_items(stack):
    result, _ = run(stack, SHAPES / "nested_iteration.yaml", {"rows": [["a", "b"], ["c"]]})

    assert result["outputs"] == {
        "cells": [["0.0=a", "0.1=b"], ["1.0=c"]],
        "flat": ["a", "b", "c"],
    }


def test_given_a_failing_branch_then_the_run_fails_naming_its_node(stack):
    result, records = run(stack, SHAPES / "parallel_branch_failure.yaml", {"n": 3})

    assert result["status"] == "failed"
    assert result["error"]["node_id"] == "boom"
    assert result["error"]["type"] == "CodeExecutionError"
    assert "cannot handle 3" in result["error"]["message"]
    assert sorted(records) == [("boom", "failed"), ("ok", "succeeded")]


def test_given_a_failing_item_when_terminated_then_the_run_fails_naming_its_node(stack):
    result, _ = run(stack, SHAPES / "iteration_failure.yaml", {"numbers": [1, 0]})

    assert result["status"] == "failed"
    assert result["error"]["node_id"] == "inverse"
    assert "division by zero" in result["error"]["message"]


def test_given_a_run_longer_than_its_timeout_then_it_fails_with_a_timeout_error(stack):
    result, _ = run(stack, SHAPES / "timeout.yaml", {})

    assert result["status"] == "failed"
    assert result["error"]["type"] == "States.Timeout"
    assert "timeout" in result["error"]["message"]
