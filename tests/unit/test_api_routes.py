"""The API's routes through the resolver, with proxy events and moto-backed services."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from moto import mock_aws

from signoff.api.app import ApiServices, build_app
from signoff.local.provision import create_tables
from tests.support.api_gateway import proxy_event
from tests.support.service_settings import service_settings
from tests.support.workflows import greeter

GREETER = greeter()

REGION = "us-east-1"


def admin_event(
    method: str, path: str, *, body: Any = None, tenant_id: str | None = "tenant-a"
) -> dict[str, Any]:
    """A request of an admin key of `tenant_id` (None: no authorizer ran)."""
    authorizer = {"tenant_id": tenant_id, "key_id": "key_1", "role": "admin"} if tenant_id else None
    return proxy_event(method, path, body, authorizer=authorizer)


class Api:
    def __init__(self, app: APIGatewayRestResolver, sfn: Any) -> None:
        self.app = app
        self.sfn = sfn

    def call(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        response = self.app.resolve(admin_event(method, path, **kwargs), {})
        return response["statusCode"], json.loads(response["body"])


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws(config={"stepfunctions": {"execute_state_machine": False}}):
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        sfn = boto3.client("stepfunctions", region_name=REGION)
        tables = create_tables(dynamodb)
        settings = service_settings(
            tables,
            payloads_bucket="payloads",
            # Executions never end here: a blocking start answers as soon as the wait begins.
            blocking_wait_seconds=0,
        )
        services = ApiServices.from_settings(
            settings,
            dynamodb_client=dynamodb,
            sfn_client=sfn,
            s3_client=boto3.client("s3", region_name=REGION),
        )
        yield Api(build_app(services), sfn)


@pytest.fixture
def greeter(api: Api) -> dict[str, Any]:
    status, body = api.call("POST", "/workflows", body=GREETER)
    assert status == 201, body
    return body


def test_given_a_graph_when_posted_then_201_with_id_version_and_state_machine(api, greeter):
    assert greeter["id"] == "greeter"
    assert greeter["version"] == 1
    assert greeter["name"] == "greeter"
    machine = api.sfn.describe_state_machine(stateMachineArn=greeter["state_machine_arn"])
    assert machine["status"] == "ACTIVE"


def test_given_a_created_workflow_then_get_returns_its_graph_and_list_includes_it(api, greeter):
    status, workflow = api.call("GET", "/workflows/greeter")
    listed_status, listed = api.call("GET", "/workflows")

    assert status == 200
    assert workflow["state_machine_arn"] == greeter["state_machine_arn"]
    assert [node["id"] for node in workflow["graph"]["nodes"]] == ["start", "greet", "end"]
    assert workflow["description"] == "Says hello."
    assert listed_status == 200
    assert [item["id"] for item in listed["data"]] == ["greeter"]


def test_given_a_taken_id_when_posted_again_then_409(api, greeter):
    status, body = api.call("POST", "/workflows", body=GREETER)

    assert status == 409
    assert body["code"] == "conflict"


def test_given_a_graph_with_problems_when_posted_then_400_with_every_issue(api):
    broken = {**GREETER, "nodes": [*GREETER["nodes"], {"id": "mystery", "type": "warp-drive"}]}

    status, body = api.call("POST", "/workflows", body=broken)

    assert status == 400
    assert body["code"] == "invalid_graph"
    assert any(issue["node_id"] == "mystery" for issue in body["issues"])


def test_given_a_run_that_outlasts_the_wait_when_started_then_202_with_its_id(api, greeter):
    status, body = api.call(
        "POST",
        "/workflows/greeter/runs",
        body={"inputs": {"name": "Ada"}, "response_mode": "blocking", "user": "ada"},
    )

    assert status == 202
    assert body["status"] == "running"
    run_status, run = api.call("GET", f"/runs/{body['run_id']}")
    assert run_status == 200
    assert run["run_id"] == body["run_id"]
    assert run["workflow_id"] == "greeter"
    assert run["status"] == "running"
    assert run["inputs"] == {"name": "Ada", "times": 1}
    assert run["user"] == "ada"
    assert run["outputs"] is None
    assert run["execution_arn"].startswith("arn:aws:states:")
    assert run["elapsed_time"] >= 0
    assert run["current_nodes"] == []
    assert run["progress"] == {"finished_nodes": 0, "total_nodes": 1}


def test_given_an_unknown_input_when_started_then_400_naming_it(api, greeter):
    status, body = api.call(
        "POST", "/workflows/greeter/runs", body={"inputs": {"name": "Ada", "age": 3}}
    )

    assert status == 400
    assert body["field"] == "inputs.age"


def test_given_a_mode_we_do_not_serve_when_started_then_400_naming_response_mode(api, greeter):
    status, body = api.call(
        "POST",
        "/workflows/greeter/runs",
        body={"inputs": {"name": "Ada"}, "response_mode": "telepathy"},
    )

    assert status == 400
    assert body["field"] == "response_mode"


def test_given_a_stopped_execution_when_the_run_is_read_then_it_reads_stopped(api, greeter):
    _, started = api.call("POST", "/workflows/greeter/runs", body={"inputs": {"name": "Ada"}})
    _, run = api.call("GET", f"/runs/{started['run_id']}")
    api.sfn.stop_execution(executionArn=run["execution_arn"])

    status, run = api.call("GET", f"/runs/{started['run_id']}")

    assert status == 200
    assert run["status"] == "stopped"
    assert run["finished_at"] is not None


def test_given_a_run_then_its_nodes_list_and_the_runs_list_show_it(api, greeter):
    _, started = api.call("POST", "/workflows/greeter/runs", body={"inputs": {"name": "Ada"}})

    nodes_status, nodes = api.call("GET", f"/runs/{started['run_id']}/nodes")
    runs_status, runs = api.call("GET", "/runs")

    assert nodes_status == 200
    assert nodes == {"data": []}
    assert runs_status == 200
    assert [run["run_id"] for run in runs["data"]] == [started["run_id"]]


def test_given_tenant_a_resources_when_tenant_b_asks_then_404_everywhere(api, greeter):
    _, started = api.call("POST", "/workflows/greeter/runs", body={"inputs": {"name": "Ada"}})
    run_id = started["run_id"]

    assert api.call("GET", "/workflows/greeter", tenant_id="tenant-b")[0] == 404
    assert api.call("GET", f"/runs/{run_id}", tenant_id="tenant-b")[0] == 404
    assert api.call("GET", f"/runs/{run_id}/nodes", tenant_id="tenant-b")[0] == 404
    started_by_b = api.call(
        "POST", "/workflows/greeter/runs", body={"inputs": {"name": "B"}}, tenant_id="tenant-b"
    )
    assert started_by_b[0] == 404
    assert api.call("GET", "/workflows", tenant_id="tenant-b") == (200, {"data": []})
    assert api.call("GET", "/runs", tenant_id="tenant-b") == (
        200,
        {"data": [], "page": 1, "limit": 20, "has_more": False},
    )


def test_given_unknown_ids_then_404_not_found(api):
    for path in ("/workflows/nope", "/runs/nope", "/runs/nope/nodes"):
        status, body = api.call("GET", path)
        assert status == 404, path
        assert body["code"] == "not_found"


def test_given_no_tenant_then_protected_routes_answer_401(api):
    for method, path in (("GET", "/workflows"), ("GET", "/runs/x"), ("POST", "/workflows")):
        status, body = api.call(method, path, body={} if method == "POST" else None, tenant_id=None)
        assert status == 401, path
        assert body["code"] == "unauthorized"
