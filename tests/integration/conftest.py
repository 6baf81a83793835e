"""Shared moto fixtures: AWS in this process, the template's tables, or the whole stack."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
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
        try:
            yield
        finally:
            stop_running_executions()


def stop_running_executions() -> None:
    """Stop what a test left running: an execution's thread outlives the test otherwise, and
    its later events (status changes, Lambda calls) would land in the next test's moto."""
    sfn = boto3.client("stepfunctions", region_name=REGION)
    for machines in sfn.get_paginator("list_state_machines").paginate():
        for machine in machines["stateMachines"]:
            pages = sfn.get_paginator("list_executions").paginate(
                stateMachineArn=machine["stateMachineArn"], statusFilter="RUNNING"
            )
            for page in pages:
                for execution in page["executions"]:
                    with contextlib.suppress(ClientError):
                        sfn.stop_execution(
                            executionArn=execution["executionArn"], cause="the test ended"
                        )


@pytest.fixture
def dynamodb(aws: None) -> Any:
    return boto3.client("dynamodb", region_name=REGION)


@pytest.fixture
def tables(dynamodb: Any) -> dict[str, str]:
    """template.yaml's tables, created in moto: logical id -> table name."""
    return create_tables(dynamodb)


@pytest.fixture
def stack_parameters() -> dict[str, str]:
    """The template parameters `stack` overrides: a module that needs other choices (private
    networks allowed, say) overrides this fixture."""
    return {}


@pytest.fixture
def stack(aws: None, stack_parameters: dict[str, str]) -> Iterator[StackPlan]:
    """Every resource of template.yaml in moto, its handlers answering Lambda invokes in process."""
    plan = plan_stack(parameter_overrides=stack_parameters)
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
def aws_clients(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """moto in process without executing state machines (an execution started stays running),
    its DynamoDB and Step Functions clients, and the template's tables (logical id -> name)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws(config={"stepfunctions": {"execute_state_machine": False}}):
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        yield {
            "dynamodb": dynamodb,
            "sfn": boto3.client("stepfunctions", region_name=REGION),
            "tables": create_tables(dynamodb),
        }


@pytest.fixture
def event_sources(stack: StackPlan) -> EventSources:
    """The stack's SQS event sources, not polling on their own: `event_sources.drain()` runs
    every queued message through its function on the test's thread (`fast_forward=True` also
    brings failed messages back at once, so retries and dead-letter moves happen now)."""
    return EventSources.for_plan(stack, sqs_client=boto3.client("sqs", region_name=REGION))
