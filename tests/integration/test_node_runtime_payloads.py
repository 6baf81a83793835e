"""run_node with the payload store: references resolved on the way in, large values offloaded on
the way out and in the execution record (moto's S3 and DynamoDB)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from signoff.nodes.event import NodeEvent
from signoff.nodes.offloading import NodePayloads
from signoff.nodes.runtime import run_node
from signoff.payloads import REF, PayloadRefused, PayloadStore, encode, is_ref
from signoff.store.node_executions import DynamoNodeExecutionRepository, NodeExecutionStatus

pytestmark = pytest.mark.integration

BUCKET = "signoff-payloads-test"
THRESHOLD = 4096
RUN = {"run_id": "run-1", "tenant_id": "tenant-a", "workflow_id": "wf", "user": "ada"}


class NoSandbox:
    def run(self, language: str, code: str, inputs: dict[str, Any]) -> dict[str, Any]:
        raise AssertionError("template-transform nodes never reach the sandbox")


@pytest.fixture
def store(aws: None) -> PayloadStore:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    return PayloadStore(BUCKET, s3, threshold=THRESHOLD)


@pytest.fixture
def executions(dynamodb: Any, tables: dict[str, str]) -> DynamoNodeExecutionRepository:
    return DynamoNodeExecutionRepository(tables["NodeExecutionsTable"], client=dynamodb)


def template_event(template: str, variables: dict[str, Any]) -> dict[str, Any]:
    return {
        "run": RUN,
        "node": {
            "id": "render",
            "type": "template-transform",
            "config": {
                "template": template,
                "variables": [{"variable": "text", "value_selector": ["source", "text"]}],
            },
        },
        "variables": variables,
        "attempt": 2,
    }


def run(event: dict[str, Any], store: PayloadStore, executions: Any) -> dict[str, Any]:
    return run_node(event, executions=executions, code_runner=NoSandbox(), payloads=store)


def test_given_a_reference_in_its_variables_when_a_node_runs_then_it_reads_the_whole_value(
    store, executions
):
    text = "abc" * 10_000
    ref = store.offload(text, tenant_id="tenant-a", run_id="run-1", label="nodes/source/1/outputs")

    answer = run(
        template_event("{{ text | length }} {{ text[:3] }}", {"source": {"text": ref}}),
        store,
        executions,
    )

    assert answer["outputs"] == {"output": "30000 abc"}
    [record] = executions.list_for_run("tenant-a", "run-1")
    assert record.status is NodeExecutionStatus.SUCCEEDED
    # The record keeps the reference, not 30 KB of text: DynamoDB items hold 400 KB.
    assert is_ref(record.inputs["text"])
    assert store.resolve(record.inputs, tenant_id="tenant-a") == {"text": text}


def test_given_a_node_producing_a_large_output_then_its_answer_and_record_hold_a_reference(
    store, executions
):
    answer = run(
        template_event("{{ text * 2000 }}", {"source": {"text": "xyz"}}), store, executions
    )

    output = answer["outputs"]["output"]
    assert is_ref(output)
    assert output[REF]["key"].startswith("tenant-a/run-1/nodes/render/2/outputs/")
    assert len(encode(answer)) < THRESHOLD
    assert store.resolve(output, tenant_id="tenant-a") == "xyz" * 2000
    [record] = executions.list_for_run("tenant-a", "run-1")
    assert record.outputs == answer["outputs"]


def test_given_another_tenants_reference_when_a_node_runs_then_it_fails_and_says_why(
    store, executions
):
    ref = store.offload("secret" * 2000, tenant_id="tenant-b", run_id="run-9", label="inputs")

    with pytest.raises(PayloadRefused):
        run(template_event("{{ text }}", {"source": {"text": ref}}), store, executions)

    [record] = executions.list_for_run("tenant-a", "run-1")
    assert record.status is NodeExecutionStatus.FAILED
    assert record.error is not None and record.error.type == "PayloadRefused"


def test_given_outputs_native_states_read_when_large_then_they_stay_inline(store, executions):
    event = {
        **template_event("{{ text * 2000 }}", {"source": {"text": "xyz"}}),
        "keep_inline": ["output"],
    }

    answer = run(event, store, executions)

    assert answer["outputs"] == {"output": "xyz" * 2000}


def test_given_a_reviewers_copy_of_earlier_outputs_then_the_node_reads_it_resolved(store):
    earlier = store.offload(
        {"text": "draft " * 2000}, tenant_id="tenant-a", run_id="run-1", label="nodes/x/1/outputs"
    )
    request = NodeEvent.model_validate(
        {**template_event("{{ text }}", {}), "previous_output": earlier}
    )

    assert NodePayloads(store, request).resolve(request.previous_output) == {
        "text": "draft " * 2000
    }
