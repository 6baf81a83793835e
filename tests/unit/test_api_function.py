"""The api function's wiring: built from its environment at import, answering proxy events."""

from __future__ import annotations

import importlib.util
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import boto3
import pytest
from moto import mock_aws

from signoff.errors import ConfigurationError
from signoff.local.provision import create_tables

REGION = "us-east-1"
FUNCTION = Path(__file__).resolve().parents[2] / "functions" / "api" / "app.py"


@dataclass
class LambdaContext:
    function_name: str = "api"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:api"
    aws_request_id: str = "request-1"


def load_function() -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"api_{uuid.uuid4().hex}", FUNCTION)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws(config={"stepfunctions": {"execute_state_machine": False}}):
        tables = create_tables(boto3.client("dynamodb", region_name=REGION))
        monkeypatch.setenv("SIGNOFF_WORKFLOWS_TABLE", tables["WorkflowsTable"])
        monkeypatch.setenv("SIGNOFF_RUNS_TABLE", tables["RunsTable"])
        monkeypatch.setenv("SIGNOFF_NODE_EXECUTIONS_TABLE", tables["NodeExecutionsTable"])
        monkeypatch.setenv("SIGNOFF_PAYLOADS_BUCKET", "payloads")
        yield monkeypatch


def test_given_its_environment_when_called_then_it_answers_through_the_resolver(environment):
    api = load_function()
    event = {
        "resource": "/workflows",
        "path": "/workflows",
        "httpMethod": "GET",
        "headers": {},
        "multiValueHeaders": {},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "path": "/dev/workflows",
            "stage": "dev",
            "requestId": "request-1",
            "authorizer": {"tenant_id": "tenant-a", "key_id": "key_1", "role": "admin"},
        },
        "body": None,
        "isBase64Encoded": False,
    }

    response = api.handler(event, LambdaContext())

    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == {"data": []}


def test_given_a_missing_table_setting_when_imported_then_the_error_names_the_variable(
    environment,
):
    environment.delenv("SIGNOFF_RUNS_TABLE")

    with pytest.raises(ConfigurationError, match="SIGNOFF_RUNS_TABLE"):
        load_function()
