"""llm, question-classifier and parameter-extractor workflows over HTTP on the local cloud: the
nodes reach provider "local" (the fake OpenAI-compatible server the local cloud starts, its key in
Secrets Manager) like any provider, and the runs report their tokens and price.

The local prices are 1.0 per 1k prompt tokens and 2.0 per 1k completion tokens (USD); the fake
counts words as tokens and echoes the last user message.
"""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.e2e

INPUT_PER_TOKEN = 1.0 / 1000
OUTPUT_PER_TOKEN = 2.0 / 1000


def run(api: httpx.Client, workflow_id: str, **inputs: Any) -> dict[str, Any]:
    response = api.post(
        f"/workflows/{workflow_id}/runs",
        json={"inputs": inputs, "response_mode": "blocking", "user": "e2e"},
    )
    assert response.status_code == 200, response.text
    return response.json()


def node_records(api: httpx.Client, run_id: str) -> list[dict[str, Any]]:
    records = api.get(f"/runs/{run_id}/nodes").json()
    return records["data"] if isinstance(records, dict) else records


def words(text: str) -> int:
    return len(text.split())


def test_given_the_llm_example_when_run_then_the_model_answers_and_the_run_is_priced(api):
    question = "What is the capital of France?"

    result = run(api, "llm", question=question, tone="formal")

    assert result["status"] == "succeeded", result
    assert result["outputs"]["answer"] == f"echo: {question}"
    system = "You answer in a formal tone, in at most three sentences."
    prompt_tokens, completion_tokens = words(system) + words(question), words(question) + 1
    usage = result["outputs"]["usage"]
    assert (usage["prompt_tokens"], usage["completion_tokens"]) == (
        prompt_tokens,
        completion_tokens,
    )
    price = prompt_tokens * INPUT_PER_TOKEN + completion_tokens * OUTPUT_PER_TOKEN
    assert usage["total_price"] == pytest.approx(price)
    run_record = api.get(f"/runs/{result['run_id']}").json()
    assert run_record["total_tokens"] == prompt_tokens + completion_tokens
    # The run reports its price as decimal text (no float rounding in the sum).
    assert float(run_record["total_price"]) == pytest.approx(price)
    assert run_record["currency"] == "USD"
    [record] = node_records(api, result["run_id"])
    assert (record["node_id"], record["node_type"], record["status"]) == (
        "answer",
        "llm",
        "succeeded",
    )
    assert record["inputs"] == {"#start.question#": question, "tone": "formal"}
    assert record["outputs"]["text"] == f"echo: {question}"


@pytest.mark.parametrize(
    ("message", "topic", "branch"),
    [
        ("I would like a refund for my broken kettle", "Refund", "refund"),
        ("My Support ticket is still open", "Support", "support"),
        ("Hello there", "Sales", "sales"),  # no class named: the first class, as in Dify
    ],
)
def test_given_the_classifier_example_when_run_then_the_chosen_class_picks_the_branch(
    api, message, topic, branch
):
    result = run(api, "classifier", message=message)

    assert result["status"] == "succeeded", result
    outputs = result["outputs"]
    assert outputs["topic"] == topic
    replies = {name: outputs[name] for name in ("sales", "refund", "support")}
    assert [name for name, reply in replies.items() if reply] == [branch]
    records = node_records(api, result["run_id"])
    assert [r["node_id"] for r in records] == ["topic", f"{branch}_reply"]
    assert records[0]["outputs"]["class_id"] == branch
    assert records[0]["inputs"]["query"] == message
    run_record = api.get(f"/runs/{result['run_id']}").json()
    assert run_record["total_tokens"] == records[0]["outputs"]["usage"]["total_tokens"] > 0


def test_given_the_extractor_example_when_run_then_typed_parameters_come_from_the_request(api):
    result = run(api, "extractor", request="Please book city=Lisbon nights=3, a suite")

    assert result["status"] == "succeeded", result
    assert result["outputs"] == {
        "confirmation": "Booked 3 night(s) in Lisbon (suite room).",
        "city": "Lisbon",
        "nights": 3,
        "room": "suite",
        "success": 1,
    }
    [booking, confirm] = node_records(api, result["run_id"])
    assert booking["node_type"] == "parameter-extractor"
    assert booking["outputs"]["__reason"] is None
    assert booking["outputs"]["__usage"]["total_tokens"] > 0
    assert confirm["status"] == "succeeded"


def test_given_a_request_missing_a_required_parameter_when_extracted_then_the_run_says_why(api):
    result = run(api, "extractor", request="A room in city=Porto please")

    assert result["status"] == "succeeded", result
    assert result["outputs"]["success"] == 0
    assert result["outputs"]["confirmation"] == "Could not book: parameter nights is required"
    assert result["outputs"]["city"] == ""


def two_llm_chain(model: str = "echo") -> dict[str, Any]:
    def ask(node_id: str, text: str) -> dict[str, Any]:
        return {
            "id": node_id,
            "type": "llm",
            "model": {"provider": "local", "name": model},
            "prompt_template": [{"role": "user", "text": text}],
        }

    return {
        "name": "two llm calls",
        "inputs": [{"variable": "topic", "type": "string", "required": True}],
        "nodes": [
            {"id": "start", "type": "start"},
            ask("draft", "Write about {{#start.topic#}}"),
            ask("polish", "Polish: {{#draft.text#}}"),
            {
                "id": "end",
                "type": "end",
                "outputs": [{"variable": "text", "value_selector": ["polish", "text"]}],
            },
        ],
        "edges": [
            {"source": "start", "target": "draft"},
            {"source": "draft", "target": "polish"},
            {"source": "polish", "target": "end"},
        ],
    }


def deploy(api: httpx.Client, document: dict[str, Any]) -> str:
    workflow_id = f"llm-{secrets.token_hex(3)}"
    created = api.post("/workflows", json={**document, "id": workflow_id})
    assert created.status_code == 201, created.text
    return workflow_id


def test_given_two_llm_nodes_when_run_then_the_run_sums_their_tokens_and_prices(api):
    workflow_id = deploy(api, two_llm_chain())

    result = run(api, workflow_id, topic="tea")

    assert result["status"] == "succeeded", result
    assert result["outputs"]["text"] == "echo: Polish: echo: Write about tea"
    usages = [r["outputs"]["usage"] for r in node_records(api, result["run_id"])]
    assert [u["total_tokens"] for u in usages] == [3 + 4, 5 + 6]
    run_record = api.get(f"/runs/{result['run_id']}").json()
    assert run_record["total_tokens"] == sum(u["total_tokens"] for u in usages) == 18
    assert float(run_record["total_price"]) == pytest.approx(sum(u["total_price"] for u in usages))
    assert run_record["currency"] == "USD"


def test_given_a_provider_failure_when_run_then_the_run_fails_with_the_typed_error(api):
    workflow_id = deploy(api, two_llm_chain(model="error-503"))

    result = run(api, workflow_id, topic="tea")

    assert result["status"] == "failed"
    assert result["error"]["node_id"] == "draft"
    [record] = node_records(api, result["run_id"])
    assert record["status"] == "failed"
    assert record["error"]["type"] == "LlmProviderError"
    assert "HTTP 503" in record["error"]["message"]


def test_given_a_rate_limited_model_with_retries_and_fail_branch_when_run_then_the_typed_error_takes_the_fail_branch(  # noqa: E501
    api,
):
    document = two_llm_chain(model="error-429")
    draft = document["nodes"][1]
    draft["retry_config"] = {"retry_enabled": True, "max_retries": 1, "retry_interval": 100}
    draft["error_strategy"] = "fail-branch"
    document["nodes"][2:2] = [
        {
            "id": "fallback",
            "type": "template-transform",
            "template": "fallback after {{ kind }}",
            "variables": [{"variable": "kind", "value_selector": ["draft", "error_type"]}],
        }
    ]
    document["nodes"][-1]["outputs"].append(
        {"variable": "fallback", "value_selector": ["fallback", "output"]}
    )
    document["edges"] = [
        {"source": "start", "target": "draft"},
        {"source": "draft", "source_handle": "success-branch", "target": "polish"},
        {"source": "draft", "source_handle": "fail-branch", "target": "fallback"},
        {"source": "polish", "target": "end"},
        {"source": "fallback", "target": "end"},
    ]
    workflow_id = deploy(api, document)

    result = run(api, workflow_id, topic="tea")

    assert result["status"] == "partial-succeeded", result
    assert result["outputs"] == {"text": None, "fallback": "fallback after LlmRateLimited"}
    records = node_records(api, result["run_id"])
    drafts = [(r["attempt"], r["status"]) for r in records if r["node_id"] == "draft"]
    assert drafts == [(1, "failed"), (2, "exception")]
    assert records[0]["error"]["type"] == "LlmRateLimited"
