"""Shared moto fixtures: AWS in this process, the template's tables, or the whole stack."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from signoff.local.cloud import MOTO_CONFIG
from signoff.local.event_sources import EventSources
from signoff.local.functions import FunctionRunner, activate
from signoff.local.moto_patches import apply_patches
from signoff.local.provision import StackPlan, create_tables, plan_stack, provision_stack

REGION = "us-east-1"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto in process, executing state machines, with the local cloud's patches applied."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    apply_patches()
    with mock_aws(config=MOTO_CONFIG):
        yield


@pytest.fixture
def dynamodb(aws: None) -> Any:
    return boto3.client("dynamodb", region_name=REGION)


@pytest.fixture
def tables(dynamodb: Any) -> dict[str, str]:
    """template.yaml's tables, created in moto: logical id -> table name."""
    return create_tables(dynamodb)


@pytest.fixture
def stack(aws: None) -> Iterator[StackPlan]:
    """Every resource of template.yaml in moto, its handlers answering Lambda invokes in process."""
    plan = plan_stack()
    provision_stack(
        plan,
        {
            service: boto3.client(service, region_name=REGION)
            for service in ("dynamodb", "iam", "lambda", "s3", "sqs", "events")
        },
    )
    previous = activate(FunctionRunner(plan.functions))
    try:
        yield plan
    finally:
        activate(previous)


@pytest.fixture
def event_sources(stack: StackPlan) -> EventSources:
    """The stack's SQS event sources, not polling on their own: `event_sources.drain()` runs
    every queued message through its function on the test's thread (`fast_forward=True` also
    brings failed messages back at once, so retries and dead-letter moves happen now)."""
    return EventSources.for_plan(stack, sqs_client=boto3.client("sqs", region_name=REGION))
