"""A multi-megabyte value through a whole run: the template's stack in moto, the api and node
functions in process, Step Functions executing the compiled state machine.

A code node makes a 5.1 MB string, a template-transform node reads it, the end node returns it.
Nothing in the execution comes near Step Functions' 256 KiB per state, the records stay small, and
the api answers with every value whole. (moto does not enforce the state limit, so the execution
history is measured here.)
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any
from unittest.mock import ANY

import boto3
import pytest

from signoff.local.functions import FunctionRunner, activate
from signoff.local.provision import StackPlan, plan_stack, provision_stack
from signoff.payloads import REF
from tests.support.stack_api import StackApi

pytestmark = pytest.mark.integration

REGION = "us-east-1"
TENANT = "tenant-a"
STATE_LIMIT_BYTES = 256 * 1024
DYNAMODB_ITEM_LIMIT_BYTES = 400 * 1000

SEED = "0123456789abcdef" * 18_750  # 300,000 characters: over the state limit by itself
REPEAT = 17
TEXT = SEED * REPEAT  # 5,100,000 characters

LARGE = {
    "id": "large",
    "name": "large",
    "inputs": [
        {"variable": "seed", "type": "paragraph", "required": True},
        {"variable": "times", "type": "number", "required": True},
    ],
    "nodes": [
        {"id": "start", "type": "start"},
        {
            "id": "grow",
            "type": "code",
            "code_language": "python3",
            "code": (
                "def main(seed: str, times: int) -> dict:\n"
                "    return {'text': seed * times, 'seed_length': len(seed)}\n"
            ),
            "variables": [
                {"variable": "seed", "value_selector": ["start", "seed"]},
                {"variable": "times", "value_selector": ["start", "times"]},
            ],
            "outputs": {"text": {"type": "string"}, "seed_length": {"type": "number"}},
        },
        {
            "id": "describe",
            "type": "template-transform",
            "template": "{{ text | length }} characters, {{ text[:4] }}...{{ text[-4:] }}",
            "variables": [{"variable": "text", "value_selector": ["grow", "text"]}],
        },
        {
            "id": "end",
            "type": "end",
            "outputs": [
                {"variable": "text", "value_selector": ["grow", "text"]},
                {"variable": "seed_length", "value_selector": ["grow", "seed_length"]},
                {"variable": "description", "value_selector": ["describe", "output"]},
            ],
        },
    ],
    "edges": [
        {"source": "start", "target": "grow"},
        {"source": "grow", "target": "describe"},
        {"source": "describe", "target": "end"},
    ],
}


@pytest.fixture
def large_stack(aws: None) -> Iterator[StackPlan]:
    """The template's stack, its code sandbox allowed results of up to 8 MB (Settings)."""
    plan = plan_stack()
    sandbox = plan.function("sandbox")
    plan.functions[sandbox.logical_id] = dataclasses.replace(
        sandbox,
        environment={**sandbox.environment, "SIGNOFF_SANDBOX_MAX_OUTPUT_BYTES": "8000000"},
    )
    provision_stack(
        plan,
        {
            service: boto3.client(service, region_name=REGION)
            for service in ("dynamodb", "iam", "lambda", "s3")
        },
    )
    previous = activate(FunctionRunner(plan.functions))
    try:
        yield plan
    finally:
        activate(previous)


def call_api(plan: StackPlan, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    """The api function as API Gateway's proxy integration calls it (tenant from the authorizer)."""
    return StackApi(plan).call(method, path, body, tenant_id=TENANT)


@pytest.fixture
def finished_run(large_stack: StackPlan) -> dict[str, Any]:
    status, created = call_api(large_stack, "POST", "/workflows", LARGE)
    assert status == 201, created
    status, run = call_api(
        large_stack, "POST", "/workflows/large/runs", {"inputs": {"seed": SEED, "times": REPEAT}}
    )
    assert status == 200, {key: value for key, value in run.items() if key != "inputs"}
    return run


def test_given_a_5_mb_value_when_run_then_the_answer_and_the_records_read_back_hold_it_whole(
    large_stack, finished_run
):
    run = finished_run
    assert run["status"] == "succeeded", run["error"]
    assert run["outputs"]["text"] == TEXT
    assert run["outputs"]["seed_length"] == len(SEED)
    assert run["outputs"]["description"] == "5100000 characters, 0123...cdef"
    assert run["inputs"] == {"seed": SEED, "times": REPEAT}

    status, read = call_api(large_stack, "GET", f"/runs/{run['run_id']}")
    assert status == 200
    assert read["outputs"] == run["outputs"]
    assert read["inputs"]["seed"] == SEED

    status, nodes = call_api(large_stack, "GET", f"/runs/{run['run_id']}/nodes")
    assert status == 200
    grow, describe = nodes["data"]
    assert (grow["node_id"], describe["node_id"]) == ("grow", "describe")
    assert grow["inputs"] == {"seed": SEED, "times": REPEAT}
    assert grow["outputs"] == {"text": TEXT, "seed_length": len(SEED)}
    assert describe["inputs"] == {"text": TEXT}
    assert describe["outputs"] == {"output": "5100000 characters, 0123...cdef"}


def test_given_a_5_mb_run_then_states_and_records_hold_references_and_the_bucket_the_values(
    large_stack, finished_run
):
    sfn = boto3.client("stepfunctions", region_name=REGION)
    execution_arn = finished_run["execution_arn"]

    execution = sfn.describe_execution(executionArn=execution_arn)
    assert execution["status"] == "SUCCEEDED"
    # The run's input went in as a reference, and its output came out as one.
    assert REF in json.loads(execution["input"])["inputs"]["seed"]
    assert REF in json.loads(execution["output"])["text"]
    events = [
        event
        for page in sfn.get_paginator("get_execution_history").paginate(executionArn=execution_arn)
        for event in page["events"]
    ]
    details = [
        value
        for event in events
        for key, value in event.items()
        if key.endswith("EventDetails") and isinstance(value, dict)
    ]
    assert any("grow" in json.dumps(detail) for detail in details)
    largest = max(len(json.dumps(detail).encode()) for detail in details)
    assert largest < STATE_LIMIT_BYTES / 4

    run_id = finished_run["run_id"]
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    items = [
        dynamodb.get_item(
            TableName=large_stack.table_names["RunsTable"],
            Key={"tenant_id": {"S": TENANT}, "run_id": {"S": run_id}},
        )["Item"],
        *dynamodb.query(
            TableName=large_stack.table_names["NodeExecutionsTable"],
            KeyConditionExpression="tenant_run_id = :key",
            ExpressionAttributeValues={":key": {"S": f"{TENANT}#{run_id}"}},
        )["Items"],
    ]

    assert len(items) == 3
    for item in items:
        assert len(json.dumps(item).encode()) < DYNAMODB_ITEM_LIMIT_BYTES / 10
    assert REF in json.loads(items[0]["outputs"]["S"])["text"]

    bucket = large_stack.buckets["PayloadsBucket"].bucket_name
    stored = boto3.client("s3", region_name=REGION).list_objects_v2(Bucket=bucket)["Contents"]
    keys = {item["Key"] for item in stored}
    assert all(key.startswith(f"{TENANT}/{run_id}/") for key in keys)
    assert any(key.startswith(f"{TENANT}/{run_id}/inputs/") for key in keys)
    assert any(key.startswith(f"{TENANT}/{run_id}/nodes/grow/1/outputs/") for key in keys)
    assert max(item["Size"] for item in stored) > 5_000_000


def test_given_a_value_that_expired_when_the_run_is_read_then_it_answers_with_the_reference(
    large_stack, finished_run
):
    run_id = finished_run["run_id"]
    s3 = boto3.client("s3", region_name=REGION)
    bucket = large_stack.buckets["PayloadsBucket"].bucket_name
    prefix = f"{TENANT}/{run_id}/nodes/grow/1/outputs/"
    (expired,) = s3.list_objects_v2(Bucket=bucket, Prefix=prefix)["Contents"]
    # What the bucket's lifecycle rule does after PayloadRetentionDays.
    s3.delete_object(Bucket=bucket, Key=expired["Key"])

    status, run = call_api(large_stack, "GET", f"/runs/{run_id}")

    assert status == 200
    assert run["status"] == "succeeded"
    assert run["outputs"]["text"] == {
        REF: {"bucket": bucket, "key": expired["Key"], "size": expired["Size"], "sha256": ANY}
    }
    assert run["outputs"]["description"] == "5100000 characters, 0123...cdef"
    assert run["inputs"]["seed"] == SEED
