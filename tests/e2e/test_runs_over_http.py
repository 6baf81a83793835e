"""A workflow's whole path over real HTTP: the local cloud's API, Step Functions in moto, the node
functions, and the records they leave in DynamoDB."""

from __future__ import annotations

import secrets

import boto3
import httpx
import pytest

from tests.support.workflows import raising

RAISING_WORKFLOW = raising()

pytestmark = pytest.mark.e2e


def run_hello(api: httpx.Client, name: str) -> httpx.Response:
    body = {"inputs": {"name": name}, "response_mode": "blocking", "user": "e2e"}
    return api.post("/workflows/hello/runs", json=body)


def aws(local_cloud, service: str):
    return boto3.client(
        service,
        endpoint_url=local_cloud.aws_endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def test_given_hello_deployed_when_run_blocking_then_it_greets_by_name(api):
    response = run_hello(api, "Ada")

    assert response.status_code == 200, response.text
    run = response.json()
    assert run["status"] == "succeeded"
    assert run["outputs"] == {"greeting": "Hello, Ada!"}


def test_given_an_empty_name_when_run_then_it_greets_the_world(api):
    response = run_hello(api, "   ")

    assert response.status_code == 200, response.text
    assert response.json()["outputs"] == {"greeting": "Hello, world!"}


def test_given_a_finished_run_when_read_then_it_shows_its_execution_and_node_records(
    api, local_cloud
):
    run_id = run_hello(api, "Grace").json()["run_id"]

    run = api.get(f"/runs/{run_id}").json()
    nodes = api.get(f"/runs/{run_id}/nodes").json()

    assert run["status"] == "succeeded"
    assert run["inputs"] == {"name": "Grace"}
    assert run["execution_arn"].startswith("arn:aws:states:")
    assert run["elapsed_time"] >= 0
    execution = aws(local_cloud, "stepfunctions").describe_execution(
        executionArn=run["execution_arn"]
    )
    assert execution["status"] == "SUCCEEDED"
    records = nodes["data"] if isinstance(nodes, dict) else nodes
    assert [record["node_id"] for record in records] == ["normalize", "greet"]
    normalize, greet = records
    assert normalize["status"] == greet["status"] == "succeeded"
    assert normalize["inputs"] == {"name": "Grace"}
    assert normalize["outputs"] == {"name": "Grace"}
    assert greet["outputs"] == {"output": "Hello, Grace!"}
    assert normalize["attempt"] == 1
    assert normalize["started_at"] <= normalize["finished_at"] <= greet["started_at"]


def test_given_a_node_that_raises_when_run_then_the_run_fails_with_that_nodes_error(
    api, local_cloud
):
    workflow_id = f"raises-{secrets.token_hex(3)}"
    created = api.post("/workflows", json={**RAISING_WORKFLOW, "id": workflow_id})
    assert created.status_code == 201, created.text

    response = api.post(
        f"/workflows/{workflow_id}/runs",
        json={"inputs": {"n": 7}, "response_mode": "blocking", "user": "e2e"},
    )

    assert response.status_code == 200, response.text
    run = response.json()
    assert run["status"] == "failed"
    assert run["error"]["node_id"] == "explode"
    assert "cannot handle 7" in run["error"]["message"]
    records = api.get(f"/runs/{run['run_id']}/nodes").json()
    records = records["data"] if isinstance(records, dict) else records
    assert [(r["node_id"], r["status"]) for r in records] == [("explode", "failed")]
    assert "cannot handle 7" in records[0]["error"]["message"]
    execution = aws(local_cloud, "stepfunctions").describe_execution(
        executionArn=api.get(f"/runs/{run['run_id']}").json()["execution_arn"]
    )
    assert execution["status"] == "FAILED"


def test_given_no_key_when_calling_the_api_then_401_in_the_error_shape(local_cloud):
    response = httpx.get(f"{local_cloud.base_url}/workflows")

    assert response.status_code == 401
    body = response.json()
    assert body["status"] == 401
    assert body["code"] == "unauthorized"
    assert body["message"]


def test_given_a_wrong_key_when_calling_the_api_then_401(local_cloud):
    response = httpx.get(
        f"{local_cloud.base_url}/workflows", headers={"Authorization": "Bearer sk_not_a_key"}
    )

    assert response.status_code == 401


def test_given_an_unknown_workflow_or_run_then_404(api):
    assert api.get("/workflows/no-such-workflow").status_code == 404
    assert api.get("/runs/no-such-run").status_code == 404
    missing = api.post("/workflows/no-such-workflow/runs", json={"inputs": {}, "user": "e2e"})
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"


def test_given_a_graph_with_several_problems_when_created_then_400_lists_every_issue(api):
    broken = {
        "name": "broken",
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "mystery", "type": "warp-drive"},
            {
                "id": "greet",
                "type": "template-transform",
                "template": "{{ x }}",
                "variables": [{"variable": "x", "value_selector": ["ghost", "value"]}],
            },
        ],
        "edges": [{"source": "start", "target": "greet"}, {"source": "greet", "target": "nowhere"}],
    }

    response = api.post("/workflows", json=broken)

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_graph"
    found = {(issue["code"], issue["node_id"]) for issue in body["issues"]}
    assert ("unknown_node_type", "mystery") in found
    assert ("bad_selector", "greet") in found
    assert ("missing_end", None) in found
    assert any(code == "dangling_edge" for code, _ in found)


def test_given_inputs_that_break_the_schema_when_run_then_400_names_the_field(api):
    response = api.post(
        "/workflows/hello/runs",
        json={"inputs": {"name": {"not": "a string"}}, "response_mode": "blocking", "user": "e2e"},
    )

    assert response.status_code == 400
    body = response.json()
    assert "name" in body["message"] or body.get("field", "").endswith("name")


def test_given_another_tenants_key_when_reading_a_run_then_404(api, local_cloud):
    from signoff.auth.keys import ApiKeyService
    from signoff.store.api_keys import DynamoApiKeyRepository

    run_id = run_hello(api, "Tenant A").json()["run_id"]
    tables = aws(local_cloud, "dynamodb").list_tables()["TableNames"]
    keys_table = next(name for name in tables if "ApiKeys" in name)
    repository = DynamoApiKeyRepository(keys_table, client=aws(local_cloud, "dynamodb"))
    _, other_key = ApiKeyService(repository).create_key(f"tenant-{secrets.token_hex(3)}", "e2e")
    other = httpx.Client(
        base_url=local_cloud.base_url, headers={"Authorization": f"Bearer {other_key}"}
    )

    assert other.get(f"/runs/{run_id}").status_code == 404
    assert other.get(f"/runs/{run_id}/nodes").status_code == 404
    assert other.get("/workflows/hello").status_code == 404
    assert other.get("/workflows").json() in ([], {"data": []}, {"workflows": []})


def test_health_openapi_and_docs_need_no_key(local_cloud):
    assert httpx.get(f"{local_cloud.base_url}/health").status_code == 200
    spec = httpx.get(f"{local_cloud.base_url}/openapi.json").json()
    assert "/workflows/{workflow_id}/runs" in spec["paths"] or any(
        path.startswith("/workflows/{") for path in spec["paths"]
    )
    docs = httpx.get(f"{local_cloud.base_url}/docs")
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()
