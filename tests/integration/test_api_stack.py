"""The api function in the whole template stack on moto: workflows really run to their end."""

from __future__ import annotations

import json

import pytest

from signoff.local.provision import StackPlan
from tests.support.stack_api import StackApi
from tests.support.workflows import greeter, raising

FAILING = raising(id="failing", name="failing")

GREETER = greeter()

pytestmark = pytest.mark.integration


@pytest.fixture
def api(stack: StackPlan) -> StackApi:
    api = StackApi(stack)
    for workflow in (GREETER, FAILING):
        status, body = api.call("POST", "/workflows", workflow)
        assert status == 201, body
    return api


def test_given_a_workflow_when_run_blocking_then_200_with_its_outputs_and_node_records(api):
    status, run = api.call("POST", "/workflows/greeter/runs", {"inputs": {"name": "Ada"}})

    assert status == 200, run
    assert run["status"] == "succeeded"
    assert run["outputs"] == {"greeting": "Hello, Ada!"}
    assert run["finished_at"] is not None
    assert run["current_nodes"] == []
    _, nodes = api.call("GET", f"/runs/{run['run_id']}/nodes")
    assert [(node["node_id"], node["status"]) for node in nodes["data"]] == [("greet", "succeeded")]
    assert nodes["data"][0]["outputs"] == {"output": "Hello, Ada!"}


def test_given_a_node_that_raises_when_run_then_the_run_fails_with_its_message(api):
    status, run = api.call("POST", "/workflows/failing/runs", {"inputs": {"n": 7}})

    assert status == 200, run
    assert run["status"] == "failed"
    assert run["error"]["node_id"] == "explode"
    assert "cannot handle 7" in run["error"]["message"]
    # The Lambda's own stack trace stays out; only the message travels (with the user code's
    # lines, which the code node reports on purpose).
    assert "stackTrace" not in json.dumps(run)
    assert 'File "' not in json.dumps(run)


def test_given_tenant_a_run_when_tenant_b_reads_it_then_404(api):
    _, run = api.call("POST", "/workflows/greeter/runs", {"inputs": {"name": "Ada"}})

    assert api.call("GET", f"/runs/{run['run_id']}", tenant_id="tenant-b")[0] == 404
    assert api.call("GET", "/workflows/greeter", tenant_id="tenant-b")[0] == 404
