"""Limits and guarantees over real HTTP: rate limits, Idempotency-Key, body sizes, one error
shape, and a code node that cannot reach what the service holds."""

from __future__ import annotations

import secrets
from urllib.parse import urlparse

import boto3
import httpx
import pytest

pytestmark = pytest.mark.e2e


def tenant_client(local_cloud, operator: httpx.Client, **tenant: object) -> httpx.Client:
    tenant_id = f"sec-{secrets.token_hex(4)}"
    response = operator.post("/tenants", json={"name": tenant_id, "tenant_id": tenant_id, **tenant})
    assert response.status_code == 201, response.text
    key = response.json()["key"]["key"]
    return httpx.Client(
        base_url=local_cloud.base_url, headers={"Authorization": f"Bearer {key}"}, timeout=60
    )


def test_given_a_tenant_with_a_small_limit_when_it_goes_past_it_then_429_with_retry_after(
    local_cloud, api
):
    limit = {"requests_per_minute": 6, "burst": 3}
    with tenant_client(local_cloud, api, rate_limit=limit) as tenant:
        answers = [tenant.get("/workflows") for _ in range(4)]

    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    refused = answers[3]
    # One request frees up every 10 s; the wait left shrinks by however long the requests took.
    wait = int(refused.headers["retry-after"])
    assert 1 <= wait <= 10
    assert refused.json() == {
        "status": 429,
        "code": "too_many_requests",
        "message": f"more than 6 requests a minute for this tenant: retry after {wait} s",
        "error_code": 2002,
    }


def test_given_a_key_with_its_own_limit_then_other_keys_of_its_tenant_go_on(local_cloud, api):
    with tenant_client(local_cloud, api, plan="enterprise") as tenant:
        created = tenant.post(
            "/keys", json={"name": "slow", "rate_limit": {"requests_per_minute": 60, "burst": 1}}
        )
        assert created.status_code == 201, created.text
        slow = httpx.Client(
            base_url=local_cloud.base_url,
            headers={"Authorization": f"Bearer {created.json()['key']}"},
            timeout=60,
        )
        with slow:
            statuses = [slow.get("/workflows").status_code for _ in range(2)]
        assert statuses == [200, 429]
        assert tenant.get("/workflows").status_code == 200


def test_given_an_idempotency_key_when_a_run_is_posted_twice_then_one_run_and_one_answer(
    local_cloud, api
):
    sfn = boto3.client(
        "stepfunctions",
        endpoint_url=local_cloud.aws_endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    machine = api.get("/workflows/hello").json()["state_machine_arn"]
    before = len(sfn.list_executions(stateMachineArn=machine)["executions"])
    key = {"Idempotency-Key": f"order-{secrets.token_hex(6)}"}
    body = {"inputs": {"name": "Once"}}

    first = api.post("/workflows/hello/runs", json=body, headers=key)
    second = api.post("/workflows/hello/runs", json=body, headers=key)
    other = api.post("/workflows/hello/runs", json={"inputs": {"name": "Twice"}}, headers=key)

    assert first.status_code == 200, first.text
    assert second.status_code == 200
    assert second.json()["run_id"] == first.json()["run_id"]
    assert second.headers.get("idempotent-replayed") == "true"
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    assert len(sfn.list_executions(stateMachineArn=machine)["executions"]) == before + 1


def test_given_a_body_over_api_gateways_10_mb_then_the_gateway_answers_413(api):
    response = api.post(
        "/workflows",
        content=b" " * (10 * 1024 * 1024 + 1),
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == 413
    assert response.json()["error_code"] == 1003


def test_given_a_body_over_the_apis_own_limit_then_the_api_answers_413(api):
    response = api.post(
        "/workflows", content=b" " * (2 * 1024 * 1024), headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ('{"inputs": {"name": ', "invalid_json", None),
        ('{"inputs": {"name": 42}}', "invalid_input", "inputs.name"),
        ('{"inputs": {"name": "x"}, "user": 5}', "invalid_input", "user"),
        ('{"inputs": {"name": "x"}, "response_mode": "sometimes"}', "invalid_input", None),
    ],
    ids=["malformed-json", "wrong-input-type", "wrong-field-type", "unknown-mode"],
)
def test_given_bad_input_then_400_naming_the_field_in_the_one_error_shape(api, body, code, field):
    response = api.post(
        "/workflows/hello/runs", content=body, headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 400, response.text
    error = response.json()
    assert set(error) >= {"status", "code", "message", "error_code"}
    assert error["code"] == code
    assert error["error_code"] in (1000, 1001)
    if field is not None:
        assert error["field"] == field
    assert "Traceback" not in response.text


def test_given_no_key_then_401_in_the_error_shape(local_cloud):
    response = httpx.get(f"{local_cloud.base_url}/workflows", timeout=30)

    assert response.status_code == 401
    assert response.json()["error_code"] == 2000


PROBE_CODE = """
import os, socket

def attempt(action):
    try:
        return "allowed: " + repr(action())[:200]
    except BaseException as error:
        return "refused: " + type(error).__name__

def main(aws_port):
    return {
        "environ": dict(os.environ),
        "parent_environ": attempt(lambda: open(f"/proc/{os.getppid()}/environ", "rb").read()),
        "aws_endpoint": attempt(lambda: socket.create_connection(("127.0.0.1", aws_port), 2)),
        "metadata": attempt(lambda: socket.create_connection(("169.254.169.254", 80), 2)),
        "write_outside": attempt(lambda: open("/tmp/signoff-code-node-escape", "w").write("x")),
    }
"""


def test_given_a_code_node_then_it_reaches_neither_secrets_nor_aws_nor_the_file_system(
    local_cloud, api
):
    aws_port = urlparse(local_cloud.aws_endpoint_url).port
    workflow = {
        "id": f"probe-{secrets.token_hex(3)}",
        "name": "probe",
        "inputs": [{"variable": "aws_port", "type": "number", "required": True}],
        "nodes": [
            {"id": "start", "type": "start"},
            {
                "id": "probe",
                "type": "code",
                "code_language": "python3",
                "code": PROBE_CODE,
                "variables": [{"variable": "aws_port", "value_selector": ["start", "aws_port"]}],
                "outputs": {name: {"type": "object"} for name in ("environ",)}
                | {
                    name: {"type": "string"}
                    for name in ("parent_environ", "aws_endpoint", "metadata", "write_outside")
                },
            },
            {
                "id": "end",
                "type": "end",
                "outputs": [
                    {"variable": name, "value_selector": ["probe", name]}
                    for name in (
                        "environ",
                        "parent_environ",
                        "aws_endpoint",
                        "metadata",
                        "write_outside",
                    )
                ],
            },
        ],
        "edges": [{"source": "start", "target": "probe"}, {"source": "probe", "target": "end"}],
    }
    assert api.post("/workflows", json=workflow).status_code == 201

    run = api.post(f"/workflows/{workflow['id']}/runs", json={"inputs": {"aws_port": aws_port}})

    assert run.status_code == 200, run.text
    assert run.json()["status"] == "succeeded", run.text
    outputs = run.json()["outputs"]
    assert outputs["environ"] == {}
    for name in ("parent_environ", "aws_endpoint", "metadata", "write_outside"):
        assert outputs[name].startswith("refused: "), (name, outputs[name])
    assert local_cloud.admin_key not in run.text
