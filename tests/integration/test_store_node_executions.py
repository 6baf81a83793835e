"""The NodeExecutions table: running then finished once, read back in start order, per tenant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from signoff.errors import Conflict, NotFound
from signoff.store.node_executions import (
    DynamoNodeExecutionRepository,
    NodeExecution,
    NodeExecutionStatus,
    NodeFailure,
)

pytestmark = pytest.mark.integration

T0 = datetime(2025, 3, 1, 12, 0, 0, 123_000, tzinfo=UTC)


@pytest.fixture
def executions(dynamodb: Any, tables: dict[str, str]) -> DynamoNodeExecutionRepository:
    return DynamoNodeExecutionRepository(tables["NodeExecutionsTable"], client=dynamodb)


def begin(
    node_id: str = "greet",
    *,
    started_at: datetime = T0,
    attempt: int = 1,
    tenant_id: str = "tenant-a",
    run_id: str = "run-1",
) -> NodeExecution:
    return NodeExecution.begin(
        tenant_id=tenant_id,
        run_id=run_id,
        node_id=node_id,
        node_type="template-transform",
        title="Greet",
        attempt=attempt,
        inputs={"name": "Ada", "ratio": 0.25, "tags": ["x"]},
        started_at=started_at,
    )


def test_given_a_started_execution_when_listed_then_it_reads_back_running_with_its_keys(
    executions, dynamodb, tables
):
    executions.start(begin())

    [stored] = executions.list_for_run("tenant-a", "run-1")

    assert stored == begin()
    assert stored.status is NodeExecutionStatus.RUNNING
    assert stored.node_execution_id == f"{int(T0.timestamp() * 1000):013d}#greet#001"
    assert stored.started_at == "2025-03-01T12:00:00.123Z"
    item = dynamodb.scan(TableName=tables["NodeExecutionsTable"])["Items"][0]
    assert item["tenant_run_id"] == {"S": "tenant-a#run-1"}
    # JSON payloads are stored as JSON strings: a float stays a float, not a Decimal.
    assert item["inputs"]["S"] == '{"name":"Ada","ratio":0.25,"tags":["x"]}'


def test_given_a_running_execution_when_it_succeeds_then_outputs_and_timings_are_stored(executions):
    running = executions.start(begin())

    executions.finish(running.succeeded({"output": "Hello, Ada!"}, T0 + timedelta(milliseconds=42)))

    [stored] = executions.list_for_run("tenant-a", "run-1")
    assert stored.status is NodeExecutionStatus.SUCCEEDED
    assert stored.outputs == {"output": "Hello, Ada!"}
    assert stored.error is None
    assert stored.finished_at == "2025-03-01T12:00:00.165Z"
    assert stored.elapsed_ms == 42
    assert stored.inputs == {"name": "Ada", "ratio": 0.25, "tags": ["x"]}


def test_given_a_running_execution_when_it_fails_then_the_error_is_stored(executions):
    running = executions.start(begin())
    failure = NodeFailure(type="TemplateRenderError", message="the template failed")

    executions.finish(running.failed(failure, T0 + timedelta(seconds=1)))

    [stored] = executions.list_for_run("tenant-a", "run-1")
    assert stored.status is NodeExecutionStatus.FAILED
    assert stored.error == failure
    assert stored.outputs is None


def test_given_a_finished_execution_when_finished_again_then_it_is_refused_and_kept(executions):
    running = executions.start(begin())
    executions.finish(running.succeeded({"output": "first"}, T0 + timedelta(seconds=1)))

    with pytest.raises(Conflict, match="already succeeded"):
        executions.finish(
            running.failed(NodeFailure(type="X", message="late"), T0 + timedelta(seconds=2))
        )

    [stored] = executions.list_for_run("tenant-a", "run-1")
    assert stored.status is NodeExecutionStatus.SUCCEEDED
    assert stored.outputs == {"output": "first"}


def test_given_an_execution_never_started_when_finished_then_it_is_not_found(executions):
    with pytest.raises(NotFound):
        executions.finish(begin().succeeded({}, T0 + timedelta(seconds=1)))

    assert executions.list_for_run("tenant-a", "run-1") == []


def test_given_the_same_execution_when_started_twice_then_the_second_is_refused(executions):
    executions.start(begin())

    with pytest.raises(Conflict):
        executions.start(begin())


def test_given_several_executions_when_listed_then_they_come_in_start_order(executions):
    # Written out of order, including a retry (attempt 2) of the same node.
    later = begin("greet", started_at=T0 + timedelta(seconds=3), attempt=2)
    first = begin("normalize", started_at=T0)
    second = begin("greet", started_at=T0 + timedelta(seconds=1))
    for execution in (later, first, second):
        executions.start(execution)

    listed = executions.list_for_run("tenant-a", "run-1")

    assert [(e.node_id, e.attempt) for e in listed] == [
        ("normalize", 1),
        ("greet", 1),
        ("greet", 2),
    ]


def test_given_many_executions_when_listed_then_every_page_is_read(executions):
    big_inputs = {"text": "x" * 50_000}  # ~50 KB each: a 1 MB query page holds about 20
    for index in range(45):
        execution = begin(f"node{index:02d}", started_at=T0 + timedelta(milliseconds=index))
        executions.start(execution.model_copy(update={"inputs": big_inputs}))

    listed = executions.list_for_run("tenant-a", "run-1")

    assert [e.node_id for e in listed] == [f"node{index:02d}" for index in range(45)]


def test_given_two_tenants_with_the_same_run_id_when_listed_then_each_sees_only_its_own(executions):
    executions.start(begin("mine", tenant_id="tenant-a"))
    executions.start(begin("theirs", tenant_id="tenant-b"))

    assert [e.node_id for e in executions.list_for_run("tenant-a", "run-1")] == ["mine"]
    assert [e.node_id for e in executions.list_for_run("tenant-b", "run-1")] == ["theirs"]
    assert executions.list_for_run("tenant-c", "run-1") == []
