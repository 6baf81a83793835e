"""Creating workflows: graph validation, the state machine in Step Functions, the stored record."""

from __future__ import annotations

import json
from typing import Any

import pytest

from signoff.compiler import CompileTarget, compile_workflow
from signoff.errors import Conflict, GraphInvalid, InvalidInput, NotFound
from signoff.graph import parse_workflow
from signoff.settings import Settings
from signoff.store.workflows import DynamoWorkflowRepository
from signoff.workflows.service import WorkflowService
from tests.support.workflows import greeter

GREETER = {key: value for key, value in greeter().items() if key != "id"}

pytestmark = pytest.mark.integration

ROLE_ARN = "arn:aws:iam::123456789012:role/signoff-workflows"
NODE_ARN = "arn:aws:lambda:us-east-1:123456789012:function:signoff-node"
SETTLE_ARN = "arn:aws:lambda:us-east-1:123456789012:function:signoff-settle"


@pytest.fixture
def settings(aws_clients: dict[str, Any]) -> Settings:
    return Settings(
        workflows_table=aws_clients["tables"]["WorkflowsTable"],
        node_function_arn=NODE_ARN,
        settle_function_arn=SETTLE_ARN,
        workflow_execution_role_arn=ROLE_ARN,
        state_machine_prefix="signoff-test",
    )


@pytest.fixture
def repository(aws_clients: dict[str, Any], settings: Settings) -> DynamoWorkflowRepository:
    return DynamoWorkflowRepository(settings.require("workflows_table"), aws_clients["dynamodb"])


@pytest.fixture
def service(
    aws_clients: dict[str, Any], repository: DynamoWorkflowRepository, settings: Settings
) -> WorkflowService:
    return WorkflowService(repository, aws_clients["sfn"], settings)


def state_machines(aws_clients: dict[str, Any]) -> list[dict[str, Any]]:
    return aws_clients["sfn"].list_state_machines()["stateMachines"]


def test_given_a_valid_graph_when_created_then_a_standard_state_machine_runs_its_compiled_asl(
    service, aws_clients
):
    record = service.create("tenant-a", {**GREETER, "id": "greeter"})

    machine = aws_clients["sfn"].describe_state_machine(stateMachineArn=record.state_machine_arn)
    expected = compile_workflow(parse_workflow(GREETER), CompileTarget(NODE_ARN, SETTLE_ARN))
    assert json.loads(machine["definition"]) == expected
    assert machine["roleArn"] == ROLE_ARN
    assert machine["type"] == "STANDARD"
    assert machine["name"].startswith("signoff-test-")
    assert machine["name"].endswith("-greeter")
    assert record.workflow_id == "greeter"
    assert record.version == 1
    assert record.name == "greeter"
    assert record.description == "Says hello."


def test_given_a_created_workflow_then_its_record_reads_back_with_the_graph(service):
    created = service.create("tenant-a", {**GREETER, "id": "greeter"})

    stored = service.get("tenant-a", "greeter")

    assert stored == created
    assert parse_workflow(stored.graph) == parse_workflow(GREETER)
    assert [record.workflow_id for record in service.list("tenant-a")] == ["greeter"]


def test_given_no_id_when_created_then_one_is_generated(service):
    first = service.create("tenant-a", GREETER)
    second = service.create("tenant-a", GREETER)

    assert first.workflow_id != second.workflow_id
    assert first.state_machine_arn != second.state_machine_arn


def test_given_a_taken_id_when_created_again_then_conflict_and_no_new_state_machine(
    service, aws_clients
):
    service.create("tenant-a", {**GREETER, "id": "greeter"})

    with pytest.raises(Conflict):
        service.create("tenant-a", {**GREETER, "id": "greeter", "name": "other"})

    assert len(state_machines(aws_clients)) == 1
    assert service.get("tenant-a", "greeter").name == "greeter"


def test_given_two_tenants_when_both_use_one_id_then_each_gets_its_own_state_machine(
    service,
):
    mine = service.create("tenant-a", {**GREETER, "id": "greeter"})
    theirs = service.create("tenant-b", {**GREETER, "id": "greeter"})

    assert mine.state_machine_arn != theirs.state_machine_arn
    with pytest.raises(NotFound):
        service.get("tenant-c", "greeter")


def test_given_a_bad_graph_when_created_then_every_issue_and_nothing_is_left_behind(
    service, aws_clients
):
    broken = {**GREETER, "nodes": [*GREETER["nodes"], {"id": "mystery", "type": "warp-drive"}]}

    with pytest.raises(GraphInvalid) as raised:
        service.create("tenant-a", {**broken, "id": "broken"})

    assert any(issue.node_id == "mystery" for issue in raised.value.issues)
    assert state_machines(aws_clients) == []
    assert service.list("tenant-a") == []


@pytest.mark.parametrize("workflow_id", ["has space", "-leading-dash", "x" * 65, "dot.ted", 7])
def test_given_a_bad_id_when_created_then_invalid_input_naming_id(service, workflow_id):
    with pytest.raises(InvalidInput) as raised:
        service.create("tenant-a", {**GREETER, "id": workflow_id})

    assert raised.value.field == "id"
