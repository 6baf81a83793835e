"""The Workflows table: create once, versioned updates, tenant scoping."""

from __future__ import annotations

from typing import Any

import pytest

from signoff.errors import Conflict, NotFound
from signoff.store import utc_now_iso
from signoff.store.workflows import DynamoWorkflowRepository, WorkflowRecord

pytestmark = pytest.mark.integration

GRAPH = {"name": "hello", "nodes": [{"id": "start", "type": "start", "weight": 0.5}], "edges": []}


@pytest.fixture
def workflows(dynamodb: Any, tables: dict[str, str]) -> DynamoWorkflowRepository:
    return DynamoWorkflowRepository(tables["WorkflowsTable"], client=dynamodb)


def new_workflow(workflow_id: str = "hello", tenant_id: str = "tenant-a") -> WorkflowRecord:
    now = utc_now_iso()
    return WorkflowRecord(
        tenant_id=tenant_id,
        workflow_id=workflow_id,
        name="hello",
        version=1,
        graph=GRAPH,
        state_machine_arn=f"arn:aws:states:us-east-1:123456789012:stateMachine:{workflow_id}",
        created_at=now,
        updated_at=now,
    )


def test_given_a_workflow_when_created_then_its_graph_reads_back_unchanged(workflows):
    workflows.create(new_workflow())

    stored = workflows.get("tenant-a", "hello")

    assert stored.graph == GRAPH
    assert stored.version == 1


def test_given_an_existing_workflow_when_created_again_then_conflict(workflows):
    workflows.create(new_workflow())

    with pytest.raises(Conflict):
        workflows.create(new_workflow())


def test_given_version_1_when_updated_from_1_then_it_becomes_version_2(workflows):
    workflows.create(new_workflow())
    changed = new_workflow().model_copy(update={"name": "hello again"})

    updated = workflows.update(changed, expected_version=1)

    assert updated.version == 2
    assert workflows.get("tenant-a", "hello").name == "hello again"


def test_given_a_stale_version_when_updated_then_conflict_and_nothing_changes(workflows):
    workflows.create(new_workflow())
    workflows.update(new_workflow(), expected_version=1)

    with pytest.raises(Conflict):
        workflows.update(new_workflow().model_copy(update={"name": "lost"}), expected_version=1)

    assert workflows.get("tenant-a", "hello").name == "hello"
    assert workflows.get("tenant-a", "hello").version == 2


def test_given_no_workflow_when_updated_then_not_found(workflows):
    with pytest.raises(NotFound):
        workflows.update(new_workflow(), expected_version=1)


def test_given_two_tenants_when_reading_then_each_sees_only_its_own(workflows):
    workflows.create(new_workflow("hello", "tenant-a"))
    workflows.create(new_workflow("other", "tenant-b"))

    assert [record.workflow_id for record in workflows.list("tenant-a")] == ["hello"]
    assert workflows.find("tenant-b", "hello") is None
    with pytest.raises(NotFound):
        workflows.get("tenant-b", "hello")
