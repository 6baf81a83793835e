"""Node executions and run variables know which item (iteration) or round (loop) they belong to:
the compiled node Task's `scope` inside bodies, the record the node function writes from it, the
node history pairing each wait with its own item's execution, and the per-item variables."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from signoff.compiler.compile import compile_workflow
from signoff.compiler.target import CompileTarget
from signoff.graph import load_workflow_file
from signoff.nodes.runtime import run_node
from signoff.reviews.history import merge_history
from signoff.reviews.variables import (
    ItemOutputs,
    compose_item_variables,
    compose_variables,
    with_pending_items,
)
from signoff.store.node_executions import NodeExecution, format_time
from signoff.store.reviews import IndexStep, ReviewAction, ReviewRecord, ReviewStatus

ROOT = Path(__file__).parents[2]
TARGET = CompileTarget.placeholders()
T0 = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
RUN = {"run_id": "run-1", "tenant_id": "tenant-a", "workflow_id": "wf", "workflow_version": 1}


def node_tasks(states: dict[str, Any], found: dict[str, dict[str, Any]] | None = None):
    """Every node function Task (a work node's, by its node id), at any depth."""
    found = {} if found is None else found
    for state in states.values():
        payload = state.get("Arguments", {}).get("Payload", {})
        if state.get("Type") == "Task" and isinstance(payload.get("node"), dict):
            found[payload["node"]["id"]] = payload
        for nested in [state.get("ItemProcessor"), *state.get("Branches", [])]:
            if nested:
                node_tasks(nested["States"], found)
    return found


def path(*steps: tuple[str, int]) -> list[IndexStep]:
    return [IndexStep(container_id=container, index=index) for container, index in steps]


# ------------------------------------------------------------------ compiled payloads


def test_given_work_nodes_inside_bodies_then_their_payload_carries_the_scope_with_its_path():
    tasks = node_tasks(
        compile_workflow(load_workflow_file(ROOT / "examples/iteration.yaml"), TARGET)["States"]
    )

    # The body's first node reads its index from its item's input, the next from $i_each.
    assert tasks["tidy"]["scope"]["path"] == [
        {"container_id": "each", "index": "{% $states.input.index %}"}
    ]
    assert tasks["greet"]["scope"] == {
        "iteration_id": "each",
        "iteration_index": "{% $i_each.index %}",
        "loop_id": None,
        "loop_index": None,
        "path": [{"container_id": "each", "index": "{% $i_each.index %}"}],
    }


def test_given_a_loop_then_its_body_nodes_name_the_round():
    tasks = node_tasks(
        compile_workflow(load_workflow_file(ROOT / "examples/loop.yaml"), TARGET)["States"]
    )

    scoped = [payload["scope"] for payload in tasks.values() if "scope" in payload]
    assert scoped
    for scope in scoped:
        assert scope["path"] == [
            {"container_id": scope["loop_id"], "index": "{% $n_doubling.loop_round - 1 %}"}
        ]


def test_given_top_level_work_nodes_then_their_payload_has_no_scope():
    for name in ("hello", "fan_out", "review", "iteration"):
        document = load_workflow_file(ROOT / "examples" / f"{name}.yaml")
        tasks = node_tasks(compile_workflow(document, TARGET)["States"])
        top_level = {node.id for node in document.nodes if node.parent_id is None}
        for node_id, payload in tasks.items():
            if node_id in top_level:
                assert "scope" not in payload, node_id


# ------------------------------------------------------------------ the record


class MemoryExecutions:
    def __init__(self) -> None:
        self.records: dict[str, NodeExecution] = {}

    def start(self, execution: NodeExecution) -> NodeExecution:
        assert execution.node_execution_id not in self.records
        self.records[execution.node_execution_id] = execution
        return execution

    def finish(self, execution: NodeExecution) -> NodeExecution:
        self.records[execution.node_execution_id] = execution
        return execution

    def list_for_run(self, tenant_id: str, run_id: str) -> list[NodeExecution]:
        return list(self.records.values())


def greet_event(index: int, **extra: Any) -> dict[str, Any]:
    return {
        "run": RUN,
        "node": {
            "id": "greet",
            "type": "template-transform",
            "config": {
                "template": "Hello, {{ name }}!",
                "variables": [{"variable": "name", "value_selector": ["each", "item"]}],
            },
        },
        "variables": {"each": {"item": f"name {index}", "index": index}},
        **extra,
    }


def item_scope(outer: int, inner: int) -> dict[str, Any]:
    return {
        "iteration_id": "each",
        "iteration_index": inner,
        "loop_id": "rounds",
        "loop_index": outer,
        "path": [
            {"container_id": "rounds", "index": outer},
            {"container_id": "each", "index": inner},
        ],
    }


def test_given_items_starting_in_the_same_millisecond_then_each_has_a_record_of_its_place():
    executions = MemoryExecutions()

    # Given three items of an iteration nested in a loop's round 1, all at the same moment
    for index in range(3):
        run_node(
            greet_event(index, scope=item_scope(1, index)),
            executions=executions,
            code_runner=None,  # type: ignore[arg-type]
            clock=lambda: T0,
        )

    # Then each item's attempt is a record of its own saying where it ran
    records = sorted(executions.records.values(), key=lambda record: record.item_index or 0)
    assert [record.node_execution_id.rsplit("@", 1)[1] for record in records] == [
        "1.0",
        "1.1",
        "1.2",
    ]
    assert [(r.container_id, r.item_index, r.loop_index) for r in records] == [
        ("each", 0, 1),
        ("each", 1, 1),
        ("each", 2, 1),
    ]
    assert records[2].index_path == path(("rounds", 1), ("each", 2))
    assert records[2].outputs == {"output": "Hello, name 2!"}


def test_given_a_top_level_node_then_its_record_names_no_item():
    executions = MemoryExecutions()

    run_node(greet_event(0), executions=executions, code_runner=None, clock=lambda: T0)  # type: ignore[arg-type]

    [record] = executions.records.values()
    assert record.node_execution_id.endswith("#greet#001")
    assert (record.container_id, record.item_index, record.loop_index, record.index_path) == (
        None,
        None,
        None,
        None,
    )
    assert "index_path" not in {
        name for name, value in record.model_dump().items() if value is not None
    }


# ------------------------------------------------------------------ history and variables


def at(second: float) -> datetime:
    return T0 + timedelta(seconds=second)


def item_execution(
    index: int, start: float, outputs: dict[str, Any], node_id: str = "line"
) -> NodeExecution:
    return NodeExecution.begin(
        tenant_id="tenant-a",
        run_id="run-1",
        node_id=node_id,
        node_type="template-transform",
        started_at=at(start),
        index_path=path(("each", index)),
        item_index=index,
    ).succeeded(outputs, at(start + 0.5))


def item_review(index: int, created: float, **fields: Any) -> ReviewRecord:
    return ReviewRecord(
        tenant_id="tenant-a",
        run_id="run-1",
        review_id=f"rv-{int(created * 1000):013d}-{index}",
        node_id=fields.pop("node_id", "line"),
        node_type="template-transform",
        task_token="secret",
        container_id="each",
        item_index=index,
        index_path=path(("each", index)),
        created_at=format_time(at(created)),
        **fields,
    )


def test_given_items_reviewed_out_of_order_then_each_review_joins_its_own_items_execution():
    # Given item 1 finished after item 0, and item 0's review was asked for last
    executions = [item_execution(0, 1, {"output": "a"}), item_execution(1, 2, {"output": "b"})]
    reviews = [item_review(1, 3), item_review(0, 4)]

    history = merge_history(executions, reviews)

    assert [(entry.item_index, entry.review and entry.review.item_index) for entry in history] == [
        (0, 0),
        (1, 1),
    ]
    assert [entry.index_path for entry in history] == [path(("each", 0)), path(("each", 1))]


def test_given_two_items_waiting_without_executions_then_their_entries_stay_apart():
    reviews = [item_review(0, 1, node_id="ask"), item_review(1, 1, node_id="ask")]

    history = merge_history([], reviews)

    assert len({entry.node_execution_id for entry in history}) == 2
    assert sorted(entry.item_index for entry in history) == [0, 1]


CONTAINERS = {"line": ["each"], "shout": ["each"]}


def test_given_items_then_each_keeps_its_outputs_and_the_node_its_latest():
    executions = [
        item_execution(0, 1, {"output": "a"}),
        item_execution(2, 2, {"output": "c"}),
        item_execution(1, 3, {"output": "b"}),
    ]
    edited = item_review(
        2,
        4,
        status=ReviewStatus.EDITED,
        decision=ReviewAction.EDIT,
        edited_outputs={"output": "C!"},
        patch={"shout": {"output": "LOUD"}},
        decided_at=format_time(at(5)),
    )

    items = compose_item_variables(containers=CONTAINERS, executions=executions, reviews=[edited])
    latest = compose_variables(
        start_node_id=None, inputs={}, executions=executions, reviews=[edited]
    )

    assert {index: item.outputs for index, item in items["line"].items()} == {
        (0,): {"output": "a"},
        (1,): {"output": "b"},
        (2,): {"output": "C!"},
    }
    # The decision's patch set that item's `shout`
    assert items["shout"] == {(2,): ItemOutputs(path(("each", 2)), {"output": "LOUD"})}
    assert latest["line"] == {"output": "C!"}


def test_given_a_pending_item_edit_then_it_shows_on_its_item_only():
    items = compose_item_variables(
        containers=CONTAINERS,
        executions=[item_execution(0, 1, {"output": "a"}), item_execution(1, 2, {"output": "b"})],
        reviews=[],
    )

    shown = with_pending_items(
        items, {"line@1": {"output": "edited"}, "start": {"x": 1}}, CONTAINERS
    )

    assert shown == {
        "line": [
            ItemOutputs(path(("each", 0)), {"output": "a"}),
            ItemOutputs(path(("each", 1)), {"output": "edited"}, pending=True),
        ]
    }
