"""The settle function: the state machine's last Task brings the run record to its end, once."""

from __future__ import annotations

import importlib.util
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto import mock_aws

from signoff.local.provision import create_tables
from signoff.store import utc_now_iso
from signoff.store.runs import DynamoRunRepository, RunRecord, RunStatus

REGION = "us-east-1"
FUNCTION = Path(__file__).resolve().parents[2] / "functions" / "settle" / "app.py"


@dataclass
class LambdaContext:
    function_name: str = "settle"
    memory_limit_in_mb: int = 128
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:settle"
    aws_request_id: str = "request-1"


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> Iterator[DynamoRunRepository]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        tables = create_tables(client)
        monkeypatch.setenv("SIGNOFF_RUNS_TABLE", tables["RunsTable"])
        yield DynamoRunRepository(tables["RunsTable"], client=client)


@pytest.fixture
def settle(runs: DynamoRunRepository) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"settle_{uuid.uuid4().hex}", FUNCTION)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def running_run(runs: DynamoRunRepository) -> RunRecord:
    runs.create(
        RunRecord(
            tenant_id="tenant-a",
            run_id="run-1",
            workflow_id="hello",
            workflow_version=1,
            inputs={"name": "Ada"},
            created_at=utc_now_iso(),
        )
    )
    return runs.mark_running("tenant-a", "run-1", "arn:aws:states:us-east-1:1:execution:x:run-1")


def run_context() -> dict[str, Any]:
    return {
        "run_id": "run-1",
        "tenant_id": "tenant-a",
        "workflow_id": "hello",
        "workflow_version": 1,
        "user": "ada",
    }


def test_given_a_succeeded_execution_then_the_run_succeeds_with_its_outputs(
    settle, runs, running_run
):
    answer = settle.handler(
        {"run": run_context(), "status": "succeeded", "outputs": {"greeting": "Hello, Ada!"}},
        LambdaContext(),
    )

    assert answer == {"run_id": "run-1", "status": "succeeded"}
    stored = runs.get("tenant-a", "run-1")
    assert stored.status is RunStatus.SUCCEEDED
    assert stored.outputs == {"greeting": "Hello, Ada!"}


def test_given_a_node_failure_then_the_run_fails_with_the_nodes_message(settle, runs, running_run):
    cause = json.dumps({"errorType": "ValueError", "errorMessage": "bad", "stackTrace": ["x"]})

    answer = settle.handler(
        {
            "run": run_context(),
            "status": "failed",
            "error": {"node_id": "explode", "error": "ValueError", "cause": cause},
        },
        LambdaContext(),
    )

    assert answer == {"run_id": "run-1", "status": "failed"}
    assert runs.get("tenant-a", "run-1").error == {
        "node_id": "explode",
        "type": "ValueError",
        "message": "bad",
    }


def test_given_an_already_settled_run_then_it_answers_the_status_it_kept(settle, runs, running_run):
    settle.handler({"run": run_context(), "status": "succeeded", "outputs": {}}, LambdaContext())

    answer = settle.handler(
        {"run": run_context(), "status": "failed", "error": {"error": "X", "cause": "y"}},
        LambdaContext(),
    )

    assert answer == {"run_id": "run-1", "status": "succeeded"}
    assert runs.get("tenant-a", "run-1").error is None


def test_given_handled_exceptions_then_a_finished_run_is_partial_succeeded(
    settle, runs, running_run
):
    answer = settle.handler(
        {"run": run_context(), "status": "succeeded", "outputs": {"x": 1}, "exceptions": 2},
        LambdaContext(),
    )

    assert answer == {"run_id": "run-1", "status": "partial-succeeded"}
    assert runs.get("tenant-a", "run-1").status is RunStatus.PARTIAL_SUCCEEDED


def test_given_no_exception_then_the_run_succeeds_and_keeps_its_usage_totals(
    settle, runs, running_run
):
    usage = {
        "prompt_tokens": 120,
        "completion_tokens": 30,
        "total_tokens": 150,
        "total_price": 0.000450,
        "currency": "USD",
    }

    answer = settle.handler(
        {
            "run": run_context(),
            "status": "succeeded",
            "outputs": {},
            "exceptions": 0,
            "usage": usage,
        },
        LambdaContext(),
    )

    assert answer["status"] == "succeeded"
    stored = runs.get("tenant-a", "run-1")
    assert (stored.total_tokens, stored.total_price, stored.currency) == (150, "0.00045", "USD")


def test_given_no_usage_then_the_totals_stay_zero(settle, runs, running_run):
    settle.handler({"run": run_context(), "status": "succeeded", "outputs": {}}, LambdaContext())

    stored = runs.get("tenant-a", "run-1")
    assert (stored.total_tokens, stored.total_price, stored.currency) == (0, "0", None)
