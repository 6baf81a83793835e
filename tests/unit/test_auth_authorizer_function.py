"""The authorizer function: a TOKEN authorizer event in, an IAM policy with the tenant out."""

from __future__ import annotations

import importlib.util
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto import mock_aws

from signoff.auth.keys import ApiKeyService
from signoff.local.provision import create_tables
from signoff.store.api_keys import DynamoApiKeyRepository

REGION = "us-east-1"
FUNCTION = Path(__file__).resolve().parents[2] / "functions" / "authorizer" / "app.py"
METHOD_ARN = "arn:aws:execute-api:us-east-1:123456789012:abc123def4/dev/GET/workflows/hello"


@dataclass
class LambdaContext:
    function_name: str = "authorizer"
    memory_limit_in_mb: int = 128
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:authorizer"
    aws_request_id: str = "request-1"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        yield create_tables(boto3.client("dynamodb", region_name=REGION))


@pytest.fixture
def authorizer(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.setenv("SIGNOFF_API_KEYS_TABLE", aws["ApiKeysTable"])
    spec = importlib.util.spec_from_file_location(f"authorizer_{uuid.uuid4().hex}", FUNCTION)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def key_service(aws: dict[str, str]) -> ApiKeyService:
    client = boto3.client("dynamodb", region_name=REGION)
    return ApiKeyService(DynamoApiKeyRepository(aws["ApiKeysTable"], client=client))


def token_event(token: str | None) -> dict[str, Any]:
    event: dict[str, Any] = {"type": "TOKEN", "methodArn": METHOD_ARN}
    if token is not None:
        event["authorizationToken"] = token
    return event


def test_given_a_valid_key_then_the_whole_api_is_allowed_with_the_tenant_in_context(
    authorizer, key_service
):
    record, key = key_service.create_key("tenant-a", "ci")

    answer = authorizer.handler(token_event(f"Bearer {key}"), LambdaContext())

    assert answer["principalId"] == record.key_id
    # A tenant without a record gets the default plan's limits.
    assert answer["context"] == {
        "tenant_id": "tenant-a",
        "key_id": record.key_id,
        "role": "admin",
        "plan": "free",
        "tenant_rpm": "100",
        "tenant_burst": "20",
    }
    (statement,) = answer["policyDocument"]["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Action"] == "execute-api:Invoke"
    assert statement["Resource"] == [
        "arn:aws:execute-api:us-east-1:123456789012:abc123def4/dev/*/*"
    ]


@pytest.mark.parametrize("token", [None, "", "Bearer sk_unknown_key_000", "Token abc"])
def test_given_a_bad_key_then_unauthorized_exactly_as_api_gateway_expects(authorizer, token):
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorizer.handler(token_event(token), LambdaContext())
