"""Iteration and loop progress through the whole template stack on moto: iteration.* and loop.*
events in the run's event log, in order with the node events of the items and rounds, which say
where they ran (iteration_id/index, loop_id/index)."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
import yaml

from signoff.events.envelope import Event
from signoff.local.provision import StackPlan
from signoff.store.run_events import DynamoRunEventLog
from tests.support.stack_api import StackApi

pytestmark = pytest.mark.integration

TENANT = "tenant-a"
REGION = "us-east-1"
ROOT = Path(__file__).parents[2]


def deploy(api: StackApi, path: Path, workflow_id: str) -> None:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    status, body = api.call("POST", "/workflows", {**document, "id": workflow_id})
    assert status == 201, body


@pytest.fixture
def api(stack: StackPlan) -> StackApi:
    api = StackApi(stack)
    deploy(api, ROOT / "examples" / "iteration.yaml", "iteration")
    deploy(api, ROOT / "examples" / "loop.yaml", "loop")
    deploy(api, ROOT / "tests" / "graphs" / "shapes" / "nested_iteration.yaml", "nested")
    return api


@pytest.fixture
def log(stack: StackPlan) -> DynamoRunEventLog:
    return DynamoRunEventLog(
        stack.tables["RunEventsTable"].table_name, boto3.client("dynamodb", region_name=REGION)
    )


def run_events(api: StackApi, log: DynamoRunEventLog, workflow: str, inputs: dict) -> list[Event]:
    status, run = api.call("POST", f"/workflows/{workflow}/runs", {"inputs": inputs})
    assert (status, run["status"]) == (200, "succeeded"), run
    events = log.read(tenant_id=TENANT, run_id=run["run_id"], limit=1000)
    assert [event.sequence for event in events] == list(range(1, len(events) + 1))
    return events


def of_type(events: list[Event], kind: str) -> list[Event]:
    return [event for event in events if event.type == kind]


def position(events: list[Event], event: Event) -> int:
    return events.index(event)


def test_given_an_iteration_over_three_items_when_run_then_its_progress_frames_the_items(api, log):
    events = run_events(api, log, "iteration", {"names": [" ada", "grace ", "x"]})

    [started] = of_type(events, "iteration.started")
    nexts = of_type(events, "iteration.next")
    [completed] = of_type(events, "iteration.completed")
    # Then started comes after run.started and before every item; completed after every item.
    assert events[0].type == "run.started"
    assert started.node_id == "each" and completed.node_id == "each"
    assert sorted(event.data["index"] for event in nexts) == [0, 1, 2]
    node_events = [event for event in events if event.type.startswith("node.")]
    assert len(node_events) == 12  # tidy and greet, started and succeeded, per item
    first, last = position(events, started), position(events, completed)
    assert all(first < position(events, event) < last for event in nexts + node_events)
    assert last == len(events) - 2 and events[-1].type == "run.succeeded"

    assert started.data["node_type"] == "iteration"
    assert started.data["title"] == "For each name"
    assert started.data["inputs"] == {"iterator_selector": [" ada", "grace ", "x"]}
    assert started.data["metadata"] == {"iterator_length": 3}
    assert started.data["status"] == "running"
    # Each item's next comes before its nodes, which say which item they ran for.
    for following in nexts:
        index = following.data["index"]
        item_nodes = [e for e in node_events if e.data["iteration_index"] == index]
        assert {e.data["iteration_id"] for e in item_nodes} == {"each"}
        assert len(item_nodes) == 4
        assert all(position(events, following) < position(events, e) for e in item_nodes)
        assert all(e.data["loop_id"] is None for e in item_nodes)
    assert completed.data["outputs"] == {
        "output": ["1. Hello, Ada!", "2. Hello, Grace!", "3. Hello, X!"]
    }
    assert completed.data["status"] == "succeeded"
    assert completed.data["error"] is None
    assert completed.data["steps"] == 3
    assert completed.data["created_at"] == started.data["created_at"]
    assert completed.data["finished_at"] >= completed.data["created_at"]


def test_given_an_empty_list_when_iterated_then_started_and_completed_with_no_item(api, log):
    events = run_events(api, log, "iteration", {"names": []})

    assert [event.type for event in events] == [
        "run.started",
        "iteration.started",
        "iteration.completed",
        "run.succeeded",
    ]
    assert events[2].data["outputs"] == {"output": []}


def test_given_a_loop_with_a_break_condition_when_run_then_each_round_is_announced(api, log):
    # 3 -> 6 -> 12 -> 24 -> 48: four rounds, then the break condition (value > 40) holds.
    events = run_events(api, log, "loop", {"start_value": 3, "limit": 40})

    progress = [
        (event.type, event.data.get("index"))
        for event in events
        if event.type.startswith("loop.") or event.type == "node.started"
    ]
    assert progress == [
        ("loop.started", None),
        ("loop.next", 0),
        ("node.started", None),
        ("loop.next", 1),
        ("node.started", None),
        ("loop.next", 2),
        ("node.started", None),
        ("loop.next", 3),
        ("node.started", None),
        ("loop.completed", None),
    ]
    started, completed = of_type(events, "loop.started")[0], of_type(events, "loop.completed")[0]
    assert started.data["inputs"] == {"value": 3, "steps": []}
    assert started.data["metadata"] == {"loop_length": 10}
    assert [e.data["loop_index"] for e in of_type(events, "node.succeeded")] == [0, 1, 2, 3]
    assert {e.data["loop_id"] for e in of_type(events, "node.succeeded")} == {"doubling"}
    assert completed.data["outputs"] == {"value": 48, "steps": [6, 12, 24, 48], "loop_round": 4}
    assert completed.data["steps"] == 4
    assert events[-1].type == "run.succeeded"


def test_given_nested_iterations_when_run_then_each_level_reports_its_own_items(api, log):
    events = run_events(api, log, "nested", {"rows": [["a", "b"], ["c"]]})

    def progress_of(node_id: str) -> list[tuple[str, int | None]]:
        return [
            (event.type, event.data["index"])
            for event in events
            if event.type.startswith("iteration.") and event.node_id == node_id
        ]

    # The outer iteration's items begin with the inner iteration (its started Task says both).
    assert progress_of("outer") == [
        ("iteration.started", None),
        ("iteration.next", 0),
        ("iteration.next", 1),
        ("iteration.completed", None),
    ]
    assert progress_of("inner") == [
        ("iteration.started", None),
        ("iteration.next", 0),
        ("iteration.next", 1),
        ("iteration.completed", None),
        ("iteration.started", None),
        ("iteration.next", 0),
        ("iteration.completed", None),
    ]
    # `flat` begins its items with a native node: a progress Task of its own says next.
    assert progress_of("flat") == [
        ("iteration.started", None),
        ("iteration.next", 0),
        ("iteration.next", 1),
        ("iteration.completed", None),
    ]
    cells = of_type(events, "node.succeeded")
    assert [(e.data["iteration_id"], e.data["iteration_index"]) for e in cells] == [
        ("inner", 0),
        ("inner", 1),
        ("inner", 0),
    ]
