"""LocalCloud over real HTTP: moto's server in this process, the HTTP front, the handlers."""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterator

import httpx
import pytest

from signoff.local.cloud import LocalCloud
from signoff.local.config import LocalCloudSettings

pytestmark = pytest.mark.integration

GOOD_KEY = "sk_good_key"  # the toy authorizer allows exactly this key


@pytest.fixture(scope="module")
def cloud(toy_template) -> Iterator[LocalCloud]:
    settings = LocalCloudSettings(dev_key=GOOD_KEY, port=0, aws_port=0)
    with LocalCloud(settings=settings, template_path=toy_template) as cloud:
        yield cloud


def test_given_the_cloud_then_the_front_serves_the_api_over_http(cloud):
    health = httpx.get(f"{cloud.base_url}/health")
    item = httpx.get(f"{cloud.base_url}/items/9", headers={"Authorization": f"Bearer {GOOD_KEY}"})
    anonymous = httpx.get(f"{cloud.base_url}/items/9")

    assert health.status_code == 200
    assert item.status_code == 200
    assert item.json()["event"]["pathParameters"] == {"item_id": "9"}
    assert anonymous.status_code == 401


def test_given_a_dev_key_then_it_is_seeded_hashed_for_the_default_tenant(cloud):
    table = cloud.plan.tables["ApiKeysTable"].table_name
    digest = hashlib.sha256(GOOD_KEY.encode()).hexdigest()

    item = cloud.client("dynamodb").get_item(TableName=table, Key={"key_hash": {"S": digest}})

    assert cloud.admin_key == GOOD_KEY
    assert item["Item"]["tenant_id"]["S"] == "default"
    assert item["Item"]["role"]["S"] == "admin"


def test_given_examples_then_native_ones_are_deployed_through_the_api(cloud):
    # examples/greet.yaml is native; examples/imported.yaml is a Dify DSL export (kind: app).
    assert cloud.deployed == ["greet"]


def test_given_the_local_endpoint_then_handlers_and_clients_reach_it_through_the_environment(
    cloud,
):
    assert os.environ["AWS_ENDPOINT_URL"] == cloud.aws_endpoint_url
    assert os.environ["MOTO_PORT"] == cloud.aws_endpoint_url.rsplit(":", 1)[1]
    # Set through POST /moto-api/config; its GET only reports batch and lambda, so read it here.
    from moto.core.config import default_user_config

    assert default_user_config["stepfunctions"]["execute_state_machine"] is True
    assert default_user_config["lambda"]["use_docker"] is False


def test_given_a_state_machine_on_the_moto_server_then_it_runs_the_handlers(cloud):
    sfn = cloud.client("stepfunctions")
    echo, boom = cloud.plan.function("echo"), cloud.plan.function("boom")
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Echo",
        "States": {
            "Echo": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Arguments": {"FunctionName": echo.function_arn, "Payload": "{% $states.input %}"},
                "Assign": {"echoed": "{% $states.result.Payload.event %}"},
                "Next": "Boom",
            },
            "Boom": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Arguments": {"FunctionName": boom.function_arn, "Payload": {"n": 1}},
                "Catch": [{"ErrorEquals": ["ValueError"], "Next": "Done"}],
                "End": True,
            },
            "Done": {"Type": "Pass", "Output": "{% $echoed %}", "End": True},
        },
    }
    machine = sfn.create_state_machine(
        name="toy",
        definition=json.dumps(definition),
        roleArn=cloud.plan.roles["ExecutionRole"].arn,
    )
    execution = sfn.start_execution(
        stateMachineArn=machine["stateMachineArn"], name="run-1", input='{"hello": "moto"}'
    )

    deadline = time.monotonic() + 30
    described = sfn.describe_execution(executionArn=execution["executionArn"])
    while described["status"] == "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.1)
        described = sfn.describe_execution(executionArn=execution["executionArn"])

    assert described["status"] == "SUCCEEDED", described
    assert json.loads(described["output"]) == {"hello": "moto"}


def test_given_a_cloud_when_it_stops_then_the_environment_is_restored(toy_template, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://elsewhere:1")
    settings = LocalCloudSettings(dev_key=GOOD_KEY, port=0, aws_port=0)

    with LocalCloud(settings=settings, template_path=toy_template, serve=False) as inner:
        assert os.environ["AWS_ENDPOINT_URL"] == inner.aws_endpoint_url
        assert inner.deployed == []
        assert not inner.invoke("boom", {"kind": "timeout"}).payload
        assert inner.invoke("echo", {"x": 1}).payload["event"] == {"x": 1}

    assert os.environ["AWS_ENDPOINT_URL"] == "http://elsewhere:1"
