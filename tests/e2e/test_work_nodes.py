"""http-request, tool, knowledge-retrieval, document-extractor and javascript code workflows over
HTTP on the local cloud, and in-function retries recorded attempt by attempt.

The local cloud allows private networks (it serves on loopback), so its node function reaches the
HTTP server these tests start; tools and the `handbook` dataset are the local cloud's own
(signoff/local/fake_integrations.py), registered like any deployment's.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from signoff.local.process import free_port
from tests.support.documents import pdf_with_lines
from tests.support.local_http import LocalHttpServer, Received, Reply, echo

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server() -> Iterator[LocalHttpServer]:
    with LocalHttpServer() as running:
        running.route("POST", "/echo", echo)
        running.route(
            "GET",
            "/report.pdf",
            Reply(
                200,
                pdf_with_lines("Signed off", "by everyone"),
                {"Content-Type": "application/pdf"},
            ),
        )
        yield running


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


def statuses(api: httpx.Client, run_id: str, node_id: str) -> list[tuple[int, str]]:
    return [
        (record["attempt"], record["status"])
        for record in node_records(api, run_id)
        if record["node_id"] == node_id
    ]


def test_given_the_http_request_example_when_run_then_the_templated_request_is_sent(api, server):
    before = len(server.received)

    result = run(api, "http_request", url=server.url("/echo"), city="Lyon")

    assert result["status"] == "succeeded", result
    assert result["outputs"]["status_code"] == 200
    assert result["outputs"]["summary"].startswith("HTTP 200: ")
    assert result["outputs"]["problem"] is None
    request = server.received[before]
    assert (request.method, request.path, request.query) == ("POST", "/echo", [("units", "metric")])
    assert request.headers["x-city"] == "Lyon"
    assert request.json() == {"city": "Lyon", "days": 3}
    assert statuses(api, result["run_id"], "call") == [(1, "succeeded")]


def test_given_an_unreachable_url_when_run_then_retries_are_recorded_and_the_fail_branch_runs(
    api,
):
    result = run(api, "http_request", url=f"http://127.0.0.1:{free_port()}/nobody-listens")

    assert result["status"] == "partial-succeeded", result
    assert result["outputs"]["summary"] is None
    assert result["outputs"]["problem"].startswith("The call failed (HttpRequestFailed)")
    assert statuses(api, result["run_id"], "call") == [
        (1, "failed"),
        (2, "failed"),
        (3, "exception"),
    ]


def test_given_a_node_failing_twice_when_it_retries_then_the_third_attempt_succeeds(api, server):
    calls = {"count": 0}

    def slow_twice(request: Received) -> Reply:
        calls["count"] += 1
        return Reply(200, f"answer {calls['count']}", delay_seconds=2 if calls["count"] <= 2 else 0)

    path = f"/flaky-{secrets.token_hex(4)}"
    server.route("GET", path, slow_twice)
    workflow_id = f"flaky-{secrets.token_hex(4)}"
    document = {
        "id": workflow_id,
        "name": "flaky",
        "nodes": [
            {"id": "start", "type": "start"},
            {
                "id": "fetch",
                "type": "http-request",
                "method": "get",
                "url": server.url(path),
                "timeout": {"read": 0.5},
                "retry_config": {"retry_enabled": True, "max_retries": 2, "retry_interval": 100},
            },
            {
                "id": "end",
                "type": "end",
                "outputs": [{"variable": "body", "value_selector": ["fetch", "body"]}],
            },
        ],
        "edges": [{"source": "start", "target": "fetch"}, {"source": "fetch", "target": "end"}],
    }
    created = api.post("/workflows", json=document)
    assert created.status_code == 201, created.text

    result = run(api, workflow_id)

    assert result["status"] == "succeeded", result
    assert result["outputs"] == {"body": "answer 3"}
    records = [r for r in node_records(api, result["run_id"]) if r["node_id"] == "fetch"]
    assert [(r["attempt"], r["status"]) for r in records] == [
        (1, "failed"),
        (2, "failed"),
        (3, "succeeded"),
    ]
    assert all(r["error"]["type"] == "HttpRequestFailed" for r in records[:2])


def test_given_the_tool_example_when_run_then_registered_tools_answer(api):
    result = run(api, "tool", text="sign off on every node")

    # local/fail fails; its default value keeps the run going, which ends partial-succeeded.
    assert result["status"] == "partial-succeeded", result
    assert result["outputs"] == {
        "words": [{"words": 5, "characters": 22}],
        "echoed": "You wrote 5 words.",
        "fallback": "no answer",
    }
    by_node = {record["node_id"]: record for record in node_records(api, result["run_id"])}
    assert by_node["count"]["inputs"] == {"text": "sign off on every node"}
    assert by_node["broken"]["status"] == "exception"
    assert by_node["broken"]["error"]["type"] == "ToolInvocationFailed"


def test_given_an_unregistered_tool_when_a_workflow_is_created_then_validation_names_it(api):
    document = {
        "name": "unknown tool",
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "t", "type": "tool", "provider_id": "acme", "tool_name": "nope"},
            {"id": "end", "type": "end"},
        ],
        "edges": [{"source": "start", "target": "t"}, {"source": "t", "target": "end"}],
    }

    response = api.post("/workflows", json=document)

    assert response.status_code == 400, response.text
    [issue] = [i for i in response.json()["issues"] if i["code"] == "unknown_tool"]
    assert issue["node_id"] == "t"
    assert "acme/nope" in issue["message"]


def test_given_the_knowledge_retrieval_example_when_run_then_the_best_chunks_come_back(api):
    result = run(api, "knowledge_retrieval", question="How many days of paid leave?")

    assert result["status"] == "succeeded", result
    [first, *_] = result["outputs"]["chunks"]
    assert first["title"] == "leave.md"
    assert first["metadata"]["dataset_id"] == "handbook"
    assert first["metadata"]["position"] == 1
    assert result["outputs"]["answer"].startswith("[leave.md] Employees get 25 days")


def test_given_the_document_extractor_example_when_run_then_the_pdf_s_text_is_read(api, server):
    file = {"type": "document", "transfer_method": "remote_url", "url": server.url("/report.pdf")}

    result = run(api, "document_extractor", file=file)

    assert result["status"] == "succeeded", result
    assert result["outputs"] == {"text": "Signed off\nby everyone", "lines": 2}


def test_given_the_javascript_example_when_run_then_node_runs_main(api):
    result = run(api, "javascript", words="sign off every node")

    assert result["status"] == "succeeded", result
    assert result["outputs"] == {
        "count": 4,
        "longest": "every",
        "upper": ["SIGN", "OFF", "EVERY", "NODE"],
    }
    [record] = node_records(api, result["run_id"])
    assert (record["node_type"], record["status"]) == ("code", "succeeded")
