"""Secret environment variables on the whole stack in moto: set through the API, read by a code
node and an http-request header, never in the execution history, node records or events."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from signoff.local.provision import StackPlan
from signoff.store.run_events import DynamoRunEventLog
from tests.support.local_http import LocalHttpServer, Reply
from tests.support.stack_api import StackApi

pytestmark = pytest.mark.integration

REGION = "us-east-1"
TENANT = "tenant-a"
SECRET = "sk-secret-" + "7" * 24


@pytest.fixture
def stack_parameters() -> dict[str, str]:
    # The http-request node calls a receiver on loopback.
    return {"AllowPrivateNetwork": "true"}


@pytest.fixture
def server() -> Iterator[LocalHttpServer]:
    with LocalHttpServer() as running:
        running.route(
            "GET",
            "/check",
            lambda request: Reply(body={"saw": request.headers.get("x-api-key")}),
        )
        yield running


def call(plan: StackPlan, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    """The api function as API Gateway calls it; an empty answer's body is None."""
    return StackApi(plan).call(method, path, body, tenant_id=TENANT)


def workflow(url: str) -> dict[str, Any]:
    """start -> code (reads the secret) -> http (sends it in a header) -> end."""
    return {
        "id": f"sec-{uuid.uuid4().hex[:10]}",
        "name": "uses a secret",
        "environment_variables": [
            {"name": "api_key", "value_type": "secret"},
            {"name": "team", "value": "ops"},
        ],
        "nodes": [
            {"id": "start", "type": "start"},
            {
                "id": "code",
                "type": "code",
                "code": "def main(key):\n    return {'length': len(key), 'echo': 'key=' + key}",
                "variables": [{"variable": "key", "value_selector": ["env", "api_key"]}],
                "outputs": {"length": {"type": "number"}, "echo": {"type": "string"}},
            },
            {
                "id": "http",
                "type": "http-request",
                "method": "get",
                "url": url,
                "headers": "X-Api-Key:{{#env.api_key#}}\nX-Team:{{#env.team#}}",
            },
            {
                "id": "end",
                "type": "end",
                "outputs": [
                    {"variable": "length", "value_selector": ["code", "length"]},
                    {"variable": "echo", "value_selector": ["code", "echo"]},
                    {"variable": "body", "value_selector": ["http", "body"]},
                ],
            },
        ],
        "edges": [
            {"source": "start", "target": "code"},
            {"source": "code", "target": "http"},
            {"source": "http", "target": "end"},
        ],
    }


def test_given_a_secret_set_through_the_api_then_nodes_read_it_and_nothing_keeps_it(stack, server):
    document = workflow(server.url("/check"))
    workflow_id = document["id"]
    assert call(stack, "POST", "/workflows", document)[0] == 201

    created = call(stack, "PUT", f"/workflows/{workflow_id}/secrets/api_key", {"value": "x"})
    replaced = call(stack, "PUT", f"/workflows/{workflow_id}/secrets/api_key", {"value": SECRET})
    listed = call(stack, "GET", f"/workflows/{workflow_id}/secrets")
    status, run = call(stack, "POST", f"/workflows/{workflow_id}/runs", {"inputs": {}})

    assert created == (201, {"name": "api_key", "set": True})
    assert replaced == (204, None)
    assert listed == (200, {"data": [{"name": "api_key", "set": True}]})
    assert status == 200 and run["status"] == "succeeded", run
    # The http-request node sent the value; what the nodes answered carries it redacted.
    assert server.received[-1].headers["x-api-key"] == SECRET
    assert run["outputs"]["length"] == len(SECRET)
    assert run["outputs"]["echo"] == "key=[redacted]"
    assert json.loads(run["outputs"]["body"]) == {"saw": "[redacted]"}
    # Nowhere kept: the execution's history, the node records, the run's events.
    sfn = boto3.client("stepfunctions", region_name=REGION)
    history = [
        event
        for page in sfn.get_paginator("get_execution_history").paginate(
            executionArn=run["execution_arn"]
        )
        for event in page["events"]
    ]
    definition = sfn.describe_state_machine(
        stateMachineArn=sfn.describe_execution(executionArn=run["execution_arn"])["stateMachineArn"]
    )["definition"]
    _, nodes = call(stack, "GET", f"/runs/{run['run_id']}/nodes")
    events = DynamoRunEventLog(
        stack.tables["RunEventsTable"].table_name,
        boto3.client("dynamodb", region_name=REGION),
    ).read(tenant_id=TENANT, run_id=run["run_id"])
    assert "$signoff_secret" in definition
    for kept in (history, definition, nodes, [event.model_dump(mode="json") for event in events]):
        assert SECRET not in json.dumps(kept, default=str)
    assert len(nodes["data"]) == 2


def test_given_an_unset_secret_then_the_node_fails_naming_it_and_its_workflow(stack, server):
    document = workflow(server.url("/check"))
    workflow_id = document["id"]
    assert call(stack, "POST", "/workflows", document)[0] == 201
    call(stack, "PUT", f"/workflows/{workflow_id}/secrets/api_key", {"value": SECRET})

    removed = call(stack, "DELETE", f"/workflows/{workflow_id}/secrets/api_key")
    removed_again = call(stack, "DELETE", f"/workflows/{workflow_id}/secrets/api_key")
    listed = call(stack, "GET", f"/workflows/{workflow_id}/secrets")
    _, run = call(stack, "POST", f"/workflows/{workflow_id}/runs", {"inputs": {}})

    assert removed == (204, None)
    assert removed_again[0] == 404
    assert listed == (200, {"data": [{"name": "api_key", "set": False}]})
    assert run["status"] == "failed"
    assert run["error"]["node_id"] == "code"
    assert run["error"]["type"] == "SecretNotSet"
    assert f"api_key is not set for workflow {workflow_id}" in run["error"]["message"]


def test_given_a_name_the_workflow_does_not_declare_then_setting_it_is_404(stack, server):
    document = workflow(server.url("/check"))
    assert call(stack, "POST", "/workflows", document)[0] == 201

    status, body = call(stack, "PUT", f"/workflows/{document['id']}/secrets/team", {"value": "v"})
    missing, _ = call(stack, "GET", "/workflows/nobody/secrets")

    assert status == 404 and "declares no secret environment variable team" in body["message"]
    assert missing == 404
