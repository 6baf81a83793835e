"""The control-flow examples run through the local cloud over HTTP: `signoff dev` deploys every
examples/*.yaml; each run is checked by its outputs, status and node records."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.e2e


def run(api: httpx.Client, workflow_id: str, inputs: dict[str, Any]) -> tuple[dict, list]:
    response = api.post(
        f"/workflows/{workflow_id}/runs", json={"inputs": inputs, "response_mode": "blocking"}
    )
    assert response.status_code == 200, response.text
    result = response.json()
    nodes = api.get(f"/runs/{result['run_id']}/nodes").json()["data"]
    return result, [(node["node_id"], node["status"]) for node in nodes]


def test_given_the_fan_out_example_then_its_branches_run_and_join(api):
    result, records = run(api, "fan_out", {"text": "One two"})

    assert result["status"] == "succeeded"
    assert result["outputs"] == {"report": "ONE TWO / one two / 2 words", "words": 2}
    assert sorted(records) == [
        ("measure", "succeeded"),
        ("report", "succeeded"),
        ("shout", "succeeded"),
        ("whisper", "succeeded"),
    ]


def test_given_the_nested_if_else_example_then_the_inner_else_branch_runs(api):
    result, records = run(api, "nested_if_else", {"celsius": 18, "raining": False})

    assert result["outputs"]["walk"] == "18°C and dry: take a walk."
    assert records == [("walk", "succeeded")]


def test_given_the_iteration_example_then_each_item_is_greeted_in_order(api):
    result, records = run(api, "iteration", {"names": ["ada", "alan"]})

    assert result["outputs"] == {"greetings": ["1. Hello, Ada!", "2. Hello, Alan!"]}
    assert sorted(records) == [("greet", "succeeded")] * 2 + [("tidy", "succeeded")] * 2


def test_given_the_loop_example_then_it_stops_at_its_break_condition(api):
    result, records = run(api, "loop", {"start_value": 5, "limit": 30})

    assert result["outputs"] == {"value": 40, "steps": [10, 20, 40], "rounds": 3}
    assert records == [("double", "succeeded")] * 3


def test_given_the_native_examples_then_they_run_without_a_node_record(api):
    aggregated, records = run(api, "aggregator", {"vip": False, "name": "Bo"})
    assert aggregated["outputs"]["message"] == "Hello Bo."
    assert records == [("plain", "succeeded")]

    assigned, records = run(api, "assigner", {"items": ["tea"]})
    assert assigned["outputs"] == {"basket": ["milk", "tea"], "count": 2, "note": "", "rounds": 1}
    assert records == []

    listed, records = run(
        api, "list_operator", {"products": [{"name": "b", "price": 1}, {"name": "a", "price": 2}]}
    )
    assert listed["outputs"]["cheapest_two"] == [
        {"name": "a", "price": 2},
        {"name": "b", "price": 1},
    ]
    assert records == []


def test_given_error_strategies_then_runs_end_partial_succeeded_with_exception_records(api):
    branched, records = run(api, "fail_branch", {"text": "n/a"})
    assert branched["status"] == "partial-succeeded"
    assert branched["outputs"]["problem"] == "Not a number (CodeExecutionError)."
    assert records == [("parse", "exception"), ("explain", "succeeded")]

    defaulted, records = run(api, "default_value", {"a": 4, "b": 0})
    assert defaulted["status"] == "partial-succeeded"
    assert defaulted["outputs"] == {"quotient": 0, "error": "CodeExecutionError"}
    assert records == [("divide", "exception")]

    divided, records = run(api, "default_value", {"a": 4, "b": 2})
    assert divided["status"] == "succeeded"
    assert divided["outputs"] == {"quotient": 2, "error": None}


def test_given_retries_then_every_attempt_is_a_node_record(api):
    result, records = run(api, "retry", {"fail": True})

    assert result["status"] == "partial-succeeded"
    assert records == [("flaky", "failed"), ("flaky", "failed"), ("flaky", "exception")]
    fresh, records = run(api, "retry", {"fail": False})
    assert fresh["outputs"] == {"answer": "fresh"}
    assert records == [("flaky", "succeeded")]


def test_given_a_finished_run_then_it_shows_its_usage_totals(api):
    result, _ = run(api, "fan_out", {"text": "x"})

    shown = api.get(f"/runs/{result['run_id']}").json()
    assert (shown["total_tokens"], shown["total_price"], shown["currency"]) == (0, "0", None)


def llm(node_id: str, text: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": node_id,
        "type": "llm",
        "model": {"provider": "local", "name": "echo", "mode": "chat"},
        "prompt_template": [{"role": "user", "text": text}],
        **fields,
    }


def test_given_models_in_branches_and_iterations_then_the_run_sums_all_their_usage(api):
    workflow = {
        "id": "usage-everywhere",
        "name": "usage everywhere",
        "inputs": [{"variable": "words", "type": "array"}],
        "nodes": [
            {"id": "start", "type": "start"},
            llm("left", "left side"),
            llm("right", "the right side"),
            {
                "id": "each",
                "type": "iteration",
                "iterator_selector": ["start", "words"],
                "output_selector": ["echo", "text"],
                "start_node_id": "each_start",
                "is_parallel": True,
                "parallel_nums": 2,
            },
            {"id": "each_start", "type": "iteration-start", "parent_id": "each"},
            llm("echo", "say {{#each.item#}}", parent_id="each"),
            {
                "id": "end",
                "type": "end",
                "outputs": [{"variable": "echoes", "value_selector": ["each", "output"]}],
            },
        ],
        "edges": [
            {"source": "start", "target": "left"},
            {"source": "start", "target": "right"},
            {"source": "left", "target": "each"},
            {"source": "right", "target": "each"},
            {"source": "each_start", "target": "echo"},
            {"source": "each", "target": "end"},
        ],
    }
    created = api.post("/workflows", json=workflow)
    assert created.status_code == 201, created.text

    result, records = run(api, "usage-everywhere", {"words": ["a", "b", "c"]})

    assert result["status"] == "succeeded", result
    assert len(result["outputs"]["echoes"]) == 3
    assert len(records) == 5
    nodes = api.get(f"/runs/{result['run_id']}/nodes").json()["data"]
    tokens = [node["outputs"]["usage"]["total_tokens"] for node in nodes]
    assert all(count > 0 for count in tokens)
    shown = api.get(f"/runs/{result['run_id']}").json()
    assert shown["total_tokens"] == sum(tokens)
