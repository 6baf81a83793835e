"""Iteration and loop progress: what the compiler puts in the payloads (scope fields, progress
notices, the started/completed Tasks), what the node function emits from them, the shapes of
iteration.* / loop.* data, and their Dify SSE events."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from signoff.compiler import CompileTarget, compile_workflow
from signoff.events.dify_sse import dify_stream_events
from signoff.events.emitter import EventEmitter
from signoff.events.lifecycle import RunLifecycle
from signoff.events.schema import DATA_MODELS
from signoff.graph import load_workflow_file
from signoff.nodes.progress import is_progress_request, record_progress
from signoff.nodes.runtime import run_node
from tests.support.memory_stores import MemoryEventLog, MemoryExecutions, ticking_clock

ROOT = Path(__file__).parents[2]
TARGET = CompileTarget.placeholders()
RUN = {"run_id": "run-1", "tenant_id": "tenant-a", "workflow_id": "wf", "workflow_version": 1}
T0 = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)


def states_of(path: Path) -> dict[str, Any]:
    return compile_workflow(load_workflow_file(path), TARGET)["States"]


def payload(state: dict[str, Any]) -> dict[str, Any]:
    return state["Arguments"]["Payload"]


@pytest.fixture
def log() -> MemoryEventLog:
    return MemoryEventLog()


@pytest.fixture
def lifecycle(log: MemoryEventLog) -> RunLifecycle:
    return RunLifecycle(EventEmitter(log, None))


# ---------------------------------------------------------------- the compiler


def test_given_a_graph_without_iterations_or_loops_then_no_progress_reaches_its_states():
    for name in ("hello", "fan_out", "branches", "review"):
        text = str(states_of(ROOT / "examples" / f"{name}.yaml"))
        assert "progress" not in text and "scope" not in text


def test_given_an_iteration_then_started_map_completed_and_the_entry_node_says_next():
    states = states_of(ROOT / "examples" / "iteration.yaml")

    started, items, completed = states["each"], states["each: items"], states["each: completed"]
    assert (started["Type"], items["Type"], completed["Type"]) == ("Task", "Map", "Task")
    assert (started["Next"], items["Next"], completed["Next"]) == (
        "each: items",
        "each: completed",
        "end",
    )
    [notice] = payload(started)["progress"]
    assert notice["type"] == "iteration.started"
    assert "$n_start.names" in notice["inputs"]
    assert payload(started)["request"] == "progress"
    assert started["Assign"] == {"t_each": "{% $states.result.Payload.started_at %}"}
    [done] = payload(completed)["progress"]
    assert (done["type"], done["outputs"], done["started_at"]) == (
        "iteration.completed",
        "{% $n_each %}",
        "{% $t_each %}",
    )

    inner = items["ItemProcessor"]["States"]
    # The item's first node reads its index from its input, the next one from $i_each.
    tidy, greet = payload(inner["tidy"]), payload(inner["greet"])
    assert tidy["scope"] == {
        "iteration_id": "each",
        "iteration_index": "{% $states.input.index %}",
        "loop_id": None,
        "loop_index": None,
        "path": [{"container_id": "each", "index": "{% $states.input.index %}"}],
    }
    assert tidy["progress"] == [
        {
            "type": "iteration.next",
            "node_id": "each",
            "node_type": "iteration",
            "title": "For each name",
            "index": "{% $states.input.index %}",
        }
    ]
    assert greet["scope"]["iteration_index"] == "{% $i_each.index %}"
    assert "progress" not in greet


def test_given_a_loop_then_its_own_task_sets_the_variables_and_says_started():
    states = states_of(ROOT / "examples" / "loop.yaml")

    init = states["doubling"]
    assert init["Type"] == "Task" and init["Next"] == "doubling: next round?"
    assert set(init["Assign"]) == {"n_doubling", "t_doubling"}
    [notice] = payload(init)["progress"]
    assert notice["type"] == "loop.started"
    assert notice["metadata"] == {"loop_length": 10}
    leave, _ = states["doubling: next round?"]["Choices"]
    assert leave["Next"] == "doubling: completed"
    assert states["doubling: completed"]["Next"] == "end"
    double = payload(states["double"])
    # Round i runs with loop_round i + 1 (the Choice raises it as the round begins).
    assert double["scope"]["loop_index"] == "{% $n_doubling.loop_round - 1 %}"
    assert double["progress"][0]["type"] == "loop.next"


def test_given_a_body_that_begins_with_a_native_node_then_a_progress_task_begins_each_item():
    states = states_of(ROOT / "tests" / "graphs" / "shapes" / "nested_iteration.yaml")

    flat = states["flat: items"]["ItemProcessor"]
    assert flat["StartAt"] == "flat: next item"
    following = flat["States"]["flat: next item"]
    assert following["Next"] == "copy"
    assert following["Output"] == "{% $states.input %}"
    assert payload(following)["progress"][0]["index"] == "{% $states.input.index %}"
    # A nested iteration's started Task says the outer item began.
    outer = states["outer: items"]["ItemProcessor"]
    assert [n["type"] for n in payload(outer["States"]["inner"])["progress"]] == [
        "iteration.next",
        "iteration.started",
    ]


# ---------------------------------------------------------------- the node function


def progress_request(*notices: dict[str, Any]) -> dict[str, Any]:
    return {"request": "progress", "run": RUN, "progress": list(notices)}


def test_given_a_progress_request_then_its_notices_are_emitted_in_order(log, lifecycle):
    started = {
        "type": "iteration.started",
        "node_id": "each",
        "node_type": "iteration",
        "title": "Each",
        "inputs": {"iterator_selector": ["a", "b"]},
    }
    outer_next = {**started, "type": "iteration.next", "node_id": "outer", "index": 1}
    outer_next.pop("inputs")
    request = progress_request(outer_next, started)
    assert is_progress_request(request)

    answer = record_progress(request, events=lifecycle, clock=lambda: T0)

    assert answer == {"started_at": "2025-03-01T12:00:00.000Z"}
    assert [(e.type, e.node_id) for e in log.events] == [
        ("iteration.next", "outer"),
        ("iteration.started", "each"),
    ]
    following, begun = log.events
    assert following.data["index"] == 1 and following.data["status"] == "running"
    assert begun.data == {
        "node_type": "iteration",
        "title": "Each",
        "index": None,
        "inputs": {"iterator_selector": ["a", "b"]},
        "outputs": None,
        "status": "running",
        "error": None,
        "created_at": "2025-03-01T12:00:00.000Z",
        "metadata": {"iterator_length": 2},
    }
    for event in log.events:
        DATA_MODELS[event.type].model_validate(event.data)


def test_given_a_completed_notice_then_it_spans_from_the_start_it_was_given(log, lifecycle):
    completed = {
        "type": "loop.completed",
        "node_id": "repeat",
        "node_type": "loop",
        "title": "Repeat",
        "outputs": {"n": 4, "loop_round": 2},
        "started_at": "2025-03-01T11:59:58.500Z",
        "steps": 2,
    }

    record_progress(progress_request(completed), events=lifecycle, clock=lambda: T0)

    [event] = log.events
    assert event.data["created_at"] == "2025-03-01T11:59:58.500Z"
    assert event.data["finished_at"] == "2025-03-01T12:00:00.000Z"
    assert event.data["elapsed_time"] == 1.5
    assert (event.data["status"], event.data["steps"]) == ("succeeded", 2)
    assert event.data["outputs"] == {"n": 4, "loop_round": 2}
    DATA_MODELS[event.type].model_validate(event.data)


def node_event(**extra: Any) -> dict[str, Any]:
    return {
        "run": RUN,
        "node": {
            "id": "greet",
            "type": "template-transform",
            "title": "Greet",
            "config": {
                "template": "Hello, {{ name }}!",
                "variables": [{"variable": "name", "value_selector": ["each", "item"]}],
            },
        },
        "variables": {"each": {"item": "Ada", "index": 2}},
        **extra,
    }


NEXT = {"type": "iteration.next", "node_id": "each", "node_type": "iteration", "index": 2}
SCOPE = {"iteration_id": "each", "iteration_index": 2, "loop_id": None, "loop_index": None}


def test_given_a_node_inside_an_iteration_then_its_events_say_where_it_ran(log, lifecycle):
    run_node(
        node_event(scope=SCOPE, progress=[NEXT]),
        executions=MemoryExecutions(),
        code_runner=None,  # type: ignore[arg-type]
        clock=ticking_clock(T0),
        events=lifecycle,
    )

    assert [e.type for e in log.events] == ["iteration.next", "node.started", "node.succeeded"]
    following, started, succeeded = log.events
    assert (following.node_id, following.data["index"]) == ("each", 2)
    for event in (started, succeeded):
        assert (event.data["iteration_id"], event.data["iteration_index"]) == ("each", 2)
        assert (event.data["loop_id"], event.data["loop_index"]) == (None, None)


def test_given_a_review_round_then_the_node_does_not_say_next_again(log, lifecycle):
    run_node(
        node_event(scope=SCOPE, progress=[NEXT], feedback="shorter", previous_output={"x": 1}),
        executions=MemoryExecutions(),
        code_runner=None,  # type: ignore[arg-type]
        clock=ticking_clock(T0),
        events=lifecycle,
    )

    assert [e.type for e in log.events] == ["node.started", "node.succeeded"]


def test_given_a_node_at_the_top_level_then_its_scope_fields_are_null(log, lifecycle):
    run_node(
        node_event(),
        executions=MemoryExecutions(),
        code_runner=None,  # type: ignore[arg-type]
        clock=ticking_clock(T0),
        events=lifecycle,
    )

    assert all(event.data["iteration_id"] is None for event in log.events)


# ---------------------------------------------------------------- Dify SSE


def test_progress_envelopes_become_dify_iteration_events(log, lifecycle):
    record_progress(
        progress_request(
            {
                "type": "iteration.started",
                "node_id": "each",
                "node_type": "iteration",
                "title": "Each",
                "inputs": {"iterator_selector": [1, 2, 3]},
            }
        ),
        events=lifecycle,
        clock=lambda: T0,
    )
    record_progress(
        progress_request({**NEXT, "title": "Each", "index": 0}),
        events=lifecycle,
        clock=lambda: T0,
    )
    record_progress(
        progress_request(
            {
                "type": "iteration.completed",
                "node_id": "each",
                "node_type": "iteration",
                "title": "Each",
                "outputs": {"output": [2, 4, 6]},
                "started_at": "2025-03-01T11:59:59.000Z",
                "steps": 3,
            }
        ),
        events=lifecycle,
        clock=lambda: T0,
    )

    dify = [dify_stream_events(event, task_id="task-1")[0] for event in log.events]

    assert [d["event"] for d in dify] == [
        "iteration_started",
        "iteration_next",
        "iteration_completed",
    ]
    started, following, completed = (d["data"] for d in dify)
    assert started["node_id"] == "each" and started["inputs"] == {"iterator_selector": [1, 2, 3]}
    assert started["metadata"] == {"iterator_length": 3}
    assert following["index"] == 0
    assert completed["outputs"] == {"output": [2, 4, 6]}
    assert (completed["status"], completed["steps"], completed["elapsed_time"]) == (
        "succeeded",
        3,
        1.0,
    )
    # One id across the iteration's events, as Dify's clients expect.
    assert started["id"] == following["id"] == completed["id"]
