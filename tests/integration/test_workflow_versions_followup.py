"""Workflow versions against moto, the follow-up: a workflow stored before versions gets a version
id on its head the first time it is read, a run records its version's id, and an Agno run runs
the version it read even when an update lands in between."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from signoff.difyapi.agno import AgnoRunForm, AgnoWorkflowService
from signoff.runs.service import RunService
from signoff.store import from_item, to_item, to_value
from signoff.store.node_executions import DynamoNodeExecutionRepository
from signoff.store.runs import DynamoRunRepository
from signoff.store.workflows import (
    DynamoWorkflowRepository,
    WorkflowRecord,
    WorkflowRepository,
    version_key,
)
from signoff.workflows.service import WorkflowService
from tests.support.service_settings import service_settings
from tests.support.workflows import greeter

pytestmark = pytest.mark.integration

TENANT = "tenant-a"


class World:
    def __init__(self, dynamodb: Any, sfn: Any, tables: dict[str, str]) -> None:
        self.dynamodb = dynamodb
        self.workflows_table = tables["WorkflowsTable"]
        self.settings = service_settings(tables)
        self.workflows = DynamoWorkflowRepository(tables["WorkflowsTable"], dynamodb)
        self.run_records = DynamoRunRepository(tables["RunsTable"], dynamodb)
        self.nodes = DynamoNodeExecutionRepository(tables["NodeExecutionsTable"], client=dynamodb)
        self.workflow_service = WorkflowService(self.workflows, sfn, self.settings)
        self.runs = RunService(self.run_records, self.workflows, self.nodes, sfn, self.settings)

    def head_item(self, workflow_id: str) -> dict[str, Any]:
        item = self.dynamodb.get_item(
            TableName=self.workflows_table,
            Key={"tenant_id": to_value(TENANT), "workflow_id": to_value(workflow_id)},
            ConsistentRead=True,
        )["Item"]
        return from_item(item, json_fields=("graph",))

    def store_legacy(self, workflow_id: str) -> WorkflowRecord:
        """A head item as stored before version items existed: no version id, no version item."""
        legacy = WorkflowRecord(
            tenant_id=TENANT,
            workflow_id=workflow_id,
            name=workflow_id,
            version=1,
            graph={"name": workflow_id},
            state_machine_arn=f"arn:aws:states:us-east-1:123456789012:stateMachine:{workflow_id}",
            created_at="2024-01-01T00:00:00.000Z",
            updated_at="2024-01-01T00:00:00.000Z",
        )
        self.dynamodb.put_item(
            TableName=self.workflows_table,
            Item=to_item(legacy.model_dump(), json_fields=("graph",)),
        )
        return legacy


@pytest.fixture
def world(aws_clients: dict[str, Any]) -> World:
    return World(aws_clients["dynamodb"], aws_clients["sfn"], aws_clients["tables"])


def renamed_input_greeter() -> dict[str, Any]:
    """The greeter as a version 2 whose input is `who`: inputs made for version 1 fail it."""
    document = greeter()
    document.pop("id")
    document["inputs"][0]["variable"] = "who"
    document["nodes"][1]["template"] = "Howdy, {{ who }}!"
    document["nodes"][1]["variables"] = [{"variable": "who", "value_selector": ["start", "who"]}]
    return document


# ------------------------------------------------------------------ a head without a version id


def test_given_a_workflow_stored_before_versions_when_its_head_is_read_then_it_has_a_version_id(
    world,
):
    world.store_legacy("legacy")

    head = world.workflows.get(TENANT, "legacy")
    again = world.workflows.get(TENANT, "legacy")
    versions = world.workflows.list_versions(TENANT, "legacy")

    assert head.version_id is not None
    # One id, kept: on the head item, its version item, and every later read.
    assert world.head_item("legacy")["version_id"] == head.version_id
    assert again.version_id == head.version_id
    assert [(v.version, v.version_id) for v in versions] == [(1, head.version_id)]


def test_given_a_legacy_version_item_made_already_then_the_head_takes_that_items_id(world):
    legacy = world.store_legacy("legacy")
    # Its version item was made by a read before heads were given ids: the head still has none.
    world.dynamodb.put_item(
        TableName=world.workflows_table,
        Item=to_item(
            legacy.model_dump()
            | {
                "workflow_id": version_key("legacy", 1),
                "version_of": "legacy",
                "version_id": "the-items-id",
            },
            json_fields=("graph",),
        ),
    )

    head = world.workflows.get(TENANT, "legacy")

    assert head.version_id == "the-items-id"
    assert world.head_item("legacy")["version_id"] == "the-items-id"
    assert world.workflows.get_version(TENANT, "legacy", 1).version_id == "the-items-id"


def test_given_legacy_workflows_when_listed_then_each_has_its_version_id(world):
    world.store_legacy("first")
    world.store_legacy("second")

    listed = world.workflows.list(TENANT)

    assert sorted(record.workflow_id for record in listed) == ["first", "second"]
    for record in listed:
        assert record.version_id is not None
        assert world.workflows.get_version(TENANT, record.workflow_id, 1).version_id == (
            record.version_id
        )


def test_given_a_legacy_workflow_when_updated_then_both_versions_keep_distinct_ids(world):
    world.store_legacy("legacy")
    first = world.workflows.get(TENANT, "legacy")

    updated = world.workflows.update(
        first.model_copy(update={"graph": {"name": "legacy v2"}}), expected_version=1
    )

    assert updated.version_id not in (None, first.version_id)
    assert world.workflows.get(TENANT, "legacy").version_id == updated.version_id
    assert world.workflows.get_version(TENANT, "legacy", 1).version_id == first.version_id


# ------------------------------------------------------------------ runs record their version id


def test_given_versions_when_runs_start_then_each_records_its_versions_id(world):
    first = world.workflow_service.create(TENANT, greeter())
    second = world.workflow_service.update(TENANT, "greeter", renamed_input_greeter())

    newest = world.runs.start(TENANT, "greeter", {"who": "Ada"}, response_mode="streaming")
    pinned = world.runs.start(
        TENANT, "greeter", {"name": "Ada"}, response_mode="streaming", version=1
    )

    assert (newest.run.workflow_version, newest.run.workflow_version_id) == (
        2,
        second.version_id,
    )
    assert (pinned.run.workflow_version, pinned.run.workflow_version_id) == (1, first.version_id)
    stored = world.run_records.get(TENANT, pinned.run.run_id)
    assert stored.workflow_version_id == first.version_id


# ------------------------------------------------------------------ Agno runs the version it read


class UpdatedRightAfterRead:
    """The workflows as the Agno service reads them: an update lands right after its first read
    of the head, before the run starts (the race a separate read in the run service lost)."""

    def __init__(self, repository: WorkflowRepository, update: Callable[[], Any]) -> None:
        self._repository = repository
        self._update = update
        self.updated = False

    def get(self, tenant_id: str, workflow_id: str) -> WorkflowRecord:
        head = self._repository.get(tenant_id, workflow_id)
        if not self.updated:
            self.updated = True
            self._update()
        return head

    def __getattr__(self, name: str) -> Any:
        return getattr(self._repository, name)


def test_given_an_update_between_reading_and_starting_then_the_agno_run_runs_the_version_read(
    world,
):
    first = world.workflow_service.create(TENANT, greeter())
    racing = UpdatedRightAfterRead(
        world.workflows,
        lambda: world.workflow_service.update(TENANT, "greeter", renamed_input_greeter()),
    )
    agno = AgnoWorkflowService(world.runs, world.run_records, racing, world.nodes)

    # The message becomes version 1's input `name`; version 2 would refuse it (it needs `who`).
    started = agno.start(TENANT, "greeter", AgnoRunForm(message="Ada", stream=True))

    assert racing.updated
    assert world.workflows.get(TENANT, "greeter").version == 2
    assert started.run.workflow_version == 1
    assert started.run.workflow_version_id == first.version_id
    assert started.run.inputs == {"name": "Ada", "times": 1}
    assert started.workflow_name == "greeter"
