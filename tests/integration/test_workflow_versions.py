"""Workflow versions against moto: the Workflows table's version items and the workflow service's
updates (a new version with a state machine of its own, conditional against racing updates)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from signoff.errors import GraphInvalid, InvalidInput, NotFound
from signoff.settings import Settings
from signoff.store import to_item
from signoff.store.workflows import (
    DynamoWorkflowRepository,
    WorkflowRecord,
    WorkflowVersionConflict,
    WorkflowVersionNotFound,
    version_key,
)
from signoff.workflows.service import WorkflowService, version_state_machine_name
from tests.support.workflows import greeter

pytestmark = pytest.mark.integration

ROLE_ARN = "arn:aws:iam::123456789012:role/signoff-workflows"
TENANT = "tenant-a"


def greeting(template: str, **changes: Any) -> dict[str, Any]:
    """The greeter greeting with `template` (without an id unless one is given)."""
    document = greeter(**changes)
    if "id" not in changes:
        document.pop("id")
    document["nodes"][1]["template"] = template
    return document


@pytest.fixture
def repository(aws_clients: dict[str, Any]) -> DynamoWorkflowRepository:
    return DynamoWorkflowRepository(
        aws_clients["tables"]["WorkflowsTable"], aws_clients["dynamodb"]
    )


@pytest.fixture
def service(aws_clients: dict[str, Any], repository: DynamoWorkflowRepository) -> WorkflowService:
    settings = Settings(
        workflows_table=aws_clients["tables"]["WorkflowsTable"],
        node_function_arn="arn:aws:lambda:us-east-1:123456789012:function:signoff-node",
        settle_function_arn="arn:aws:lambda:us-east-1:123456789012:function:signoff-settle",
        workflow_execution_role_arn=ROLE_ARN,
        state_machine_prefix="signoff-test",
    )
    return WorkflowService(repository, aws_clients["sfn"], settings)


def definition(aws_clients: dict[str, Any], arn: str) -> str:
    return aws_clients["sfn"].describe_state_machine(stateMachineArn=arn)["definition"]


def state_machine_arns(aws_clients: dict[str, Any]) -> set[str]:
    machines = aws_clients["sfn"].list_state_machines()["stateMachines"]
    return {machine["stateMachineArn"] for machine in machines}


# ------------------------------------------------------------------ the service


def test_given_a_new_workflow_then_it_is_version_1_with_a_version_id_and_its_author(service):
    created = service.create(TENANT, greeting("Hi {{ name }}", id="hello"), created_by="key_1")

    versions = service.versions(TENANT, "hello")

    assert created.version == 1 and created.version_id
    assert [(v.version, v.version_id, v.version_created_by) for v in versions] == [
        (1, created.version_id, "key_1")
    ]


def test_given_an_update_then_version_2_runs_its_own_state_machine_and_version_1_is_kept(
    service, aws_clients
):
    first = service.create(TENANT, greeting("Hi {{ name }}", id="hello"))

    second = service.update(TENANT, "hello", greeting("Howdy {{ name }}"), created_by="alice")

    assert second.version == 2 and second.version_id not in (None, first.version_id)
    assert second.state_machine_arn != first.state_machine_arn
    assert "Howdy" in definition(aws_clients, second.state_machine_arn)
    assert "Hi {{ name }}" in definition(aws_clients, first.state_machine_arn)
    assert "Howdy" not in definition(aws_clients, first.state_machine_arn)
    head = service.get(TENANT, "hello")
    assert (head.version, head.state_machine_arn) == (2, second.state_machine_arn)
    old = service.version(TENANT, "hello", 1)
    assert old.graph["nodes"][1]["template"] == "Hi {{ name }}"
    assert old.state_machine_arn == first.state_machine_arn
    assert [v.version for v in service.versions(TENANT, "hello")] == [1, 2]
    assert service.versions(TENANT, "hello")[1].version_created_by == "alice"
    # The versions are items of the workflow, not workflows of their own.
    assert [record.workflow_id for record in service.list(TENANT)] == ["hello"]


def test_given_if_match_of_an_older_version_then_conflict_and_nothing_is_made(service, aws_clients):
    service.create(TENANT, greeting("Hi {{ name }}", id="hello"))
    service.update(TENANT, "hello", greeting("Howdy {{ name }}"), expected_version=1)
    machines = state_machine_arns(aws_clients)

    with pytest.raises(WorkflowVersionConflict) as conflict:
        service.update(TENANT, "hello", greeting("Hey {{ name }}"), expected_version=1)

    assert conflict.value.status == 409
    assert state_machine_arns(aws_clients) == machines
    assert service.get(TENANT, "hello").version == 2


def test_given_two_updates_racing_from_one_version_then_one_wins_and_the_other_conflicts(
    service, repository, aws_clients
):
    service.create(TENANT, greeting("Hi {{ name }}", id="hello"))
    machines = state_machine_arns(aws_clients)
    store_version = repository.update

    def racing_update(record: WorkflowRecord, **options: Any) -> WorkflowRecord:
        # The other request stores its version 2 between this one's read and its write.
        repository.update = store_version
        service.update(TENANT, "hello", greeting("Winner {{ name }}"))
        return store_version(record, **options)

    repository.update = racing_update

    with pytest.raises(WorkflowVersionConflict):
        service.update(TENANT, "hello", greeting("Loser {{ name }}"))

    head = service.get(TENANT, "hello")
    assert head.version == 2
    assert head.graph["nodes"][1]["template"] == "Winner {{ name }}"
    # The loser's state machine is gone; the winner's runs version 2.
    assert state_machine_arns(aws_clients) == machines | {head.state_machine_arn}
    assert "Winner" in definition(aws_clients, head.state_machine_arn)
    assert [v.version for v in service.versions(TENANT, "hello")] == [1, 2]


def test_given_an_invalid_graph_when_updated_then_every_issue_and_nothing_changes(
    service, aws_clients
):
    service.create(TENANT, greeting("Hi {{ name }}", id="hello"))
    machines = state_machine_arns(aws_clients)
    broken = greeting("Hi")
    broken["edges"].append({"source": "greet", "target": "nowhere"})

    with pytest.raises(GraphInvalid):
        service.update(TENANT, "hello", broken)

    assert service.get(TENANT, "hello").version == 1
    assert state_machine_arns(aws_clients) == machines


def test_given_another_id_in_the_document_when_updated_then_invalid_input(service):
    service.create(TENANT, greeting("Hi {{ name }}", id="hello"))

    with pytest.raises(InvalidInput) as refusal:
        service.update(TENANT, "hello", greeting("Hi", id="other"))

    assert refusal.value.field == "id"


def test_given_no_such_workflow_when_updated_then_not_found_before_any_validation(service):
    with pytest.raises(NotFound) as missing:
        service.update(TENANT, "ghost", {})

    assert not isinstance(missing.value, WorkflowVersionNotFound)


def test_given_an_unknown_version_then_workflow_version_not_found(service):
    service.create(TENANT, greeting("Hi {{ name }}", id="hello"))

    with pytest.raises(WorkflowVersionNotFound) as missing:
        service.version(TENANT, "hello", 2)

    assert (missing.value.status, missing.value.code) == (404, "workflow_version_not_found")


def test_given_another_tenant_then_its_versions_are_not_found(service):
    service.create(TENANT, greeting("Hi {{ name }}", id="hello"))

    with pytest.raises(NotFound):
        service.versions("tenant-b", "hello")
    with pytest.raises(NotFound):
        service.update("tenant-b", "hello", greeting("Hi"))


def test_given_long_ids_then_every_version_name_fits_and_differs():
    names = {
        version_state_machine_name("signoff-prod", "tenant-" + "x" * 60, "w" * 64, version, vid)
        for version, vid in ((1, None), (2, "0f1e2d3c-aaaa"), (2, "99887766-bbbb"), (10**6, "a"))
    }

    assert len(names) == 4
    assert all(len(name) <= 80 for name in names)


# ------------------------------------------------------------------ the repository


def test_given_a_version_id_then_it_is_found_in_its_workflow_and_tenant_only(service, repository):
    created = service.create(TENANT, greeting("Hi {{ name }}", id="hello"))
    service.create(TENANT, greeting("Yo {{ name }}", id="other"))
    assert created.version_id is not None

    by_workflow = repository.find_version_by_id(TENANT, created.version_id, workflow_id="hello")
    by_tenant = repository.find_version_by_id(TENANT, created.version_id)

    assert by_workflow is not None and by_workflow.workflow_id == "hello"
    assert by_tenant is not None and by_tenant.version == 1
    assert repository.find_version_by_id(TENANT, created.version_id, workflow_id="other") is None
    assert repository.find_version_by_id("tenant-b", created.version_id) is None


def test_given_a_workflow_stored_before_versions_then_its_version_item_is_made_once(
    repository, aws_clients
):
    # A head item as stored before version items existed: no version id, no version item.
    legacy = WorkflowRecord(
        tenant_id=TENANT,
        workflow_id="legacy",
        name="legacy",
        version=1,
        graph={"name": "legacy"},
        state_machine_arn="arn:aws:states:us-east-1:123456789012:stateMachine:legacy",
        created_at="2024-01-01T00:00:00.000Z",
        updated_at="2024-01-01T00:00:00.000Z",
    )
    aws_clients["dynamodb"].put_item(
        TableName=aws_clients["tables"]["WorkflowsTable"],
        Item=to_item(legacy.model_dump(), json_fields=("graph",)),
    )

    listed = repository.list_versions(TENANT, "legacy")
    again = repository.get_version(TENANT, "legacy", 1)
    updated = repository.update(legacy, expected_version=1)

    assert [version.version for version in listed] == [1]
    assert listed[0].version_id is not None and again.version_id == listed[0].version_id
    assert updated.version == 2
    assert [v.version for v in repository.list_versions(TENANT, "legacy")] == [1, 2]
    assert repository.get_version(TENANT, "legacy", 1).graph == {"name": "legacy"}


def test_given_a_variant_of_an_old_version_then_the_head_keeps_its_own(service, repository):
    service.create(TENANT, greeting("Hi {{ name }}", id="hello"))
    service.update(TENANT, "hello", greeting("Howdy {{ name }}"))
    arn = "arn:aws:states:us-east-1:123456789012:stateMachine:hello-v1-step"

    stored = repository.set_variant_state_machine(
        repository.get_version(TENANT, "hello", 1), "step", arn
    )

    assert (stored.version, stored.step_state_machine_arn) == (1, arn)
    assert repository.get_version(TENANT, "hello", 1).step_state_machine_arn == arn
    assert repository.get(TENANT, "hello").step_state_machine_arn is None


def test_given_a_version_item_then_its_key_sorts_by_version():
    keys = [version_key("hello", version) for version in (1, 2, 10, 100)]

    assert keys == sorted(keys)
    assert json.dumps(keys).count("#v") == 4
