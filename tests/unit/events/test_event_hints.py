"""Writers that know where a run's log ends say so: each event the node function emits names the
one it emitted before (so the log puts it there without reading first), and a run's ending goes
after the last event the step count read."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from signoff.events.emitter import EventEmitter, PendingEvent
from signoff.events.lifecycle import RunLifecycle
from signoff.nodes.runtime import run_node
from signoff.store.runs import RunRecord, RunStatus
from tests.support.memory_stores import MemoryEventLog, MemoryExecutions, ticking_clock

RUN = {"run_id": "run-1", "tenant_id": "tenant-a", "workflow_id": "wf", "workflow_version": 1}
T0 = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)


def node_event(**config: Any) -> dict[str, Any]:
    return {
        "run": RUN,
        "node": {
            "id": "greet",
            "type": "template-transform",
            "title": "Greet",
            "config": {"template": "Hello, {{ name }}!", "variables": [], **config},
        },
        "variables": {},
    }


def test_given_a_node_run_then_each_event_names_the_one_the_function_emitted_before():
    # Given an iteration's next notice the node carries, then the node itself
    log = MemoryEventLog()
    event = {
        **node_event(),
        "scope": {"iteration_id": "each", "iteration_index": 0},
        "progress": [{"type": "iteration.next", "node_id": "each", "node_type": "iteration"}],
    }

    run_node(
        event,
        executions=MemoryExecutions(),  # type: ignore[arg-type]
        code_runner=None,  # type: ignore[arg-type]
        clock=ticking_clock(T0),
        events=RunLifecycle(EventEmitter(log, None)),
    )

    # Then the log was told where each one goes: only the first needed reading the log
    assert log.hints == [("iteration.next", None), ("node.started", 1), ("node.succeeded", 2)]


def test_given_a_retried_node_then_the_attempts_events_chain_too():
    log = MemoryEventLog()
    failing = node_event(
        template="{{ broken",
        retry_config={"retry_enabled": True, "max_retries": 1, "retry_interval": 100},
        error_strategy="default-value",
        default_value=[{"key": "output", "type": "string", "value": "hi"}],
    )

    run_node(
        failing,
        executions=MemoryExecutions(),  # type: ignore[arg-type]
        code_runner=None,  # type: ignore[arg-type]
        clock=ticking_clock(T0),
        sleep=lambda _: None,
        events=RunLifecycle(EventEmitter(log, None)),
    )

    assert [hint for _, hint in log.hints] == [None, *range(1, len(log.hints))]
    assert [event_type for event_type, _ in log.hints] == [
        "node.started",
        "node.retrying",
        "node.started",
        "node.exception",
    ]


def test_given_a_settled_run_then_its_ending_goes_after_the_last_event_the_step_count_read():
    log = MemoryEventLog()
    emitter = EventEmitter(log, None)
    emitter.emit_all(
        [
            PendingEvent("tenant-a", "wf", "run-1", event_type)
            for event_type in ("run.started", "node.started", "node.succeeded")
        ]
    )
    run = RunRecord(
        tenant_id="tenant-a",
        run_id="run-1",
        workflow_id="wf",
        workflow_version=1,
        status=RunStatus.SUCCEEDED,
        inputs={},
        created_at="2025-03-01T12:00:00.000Z",
        finished_at="2025-03-01T12:00:01.000Z",
    )

    ended = RunLifecycle(emitter).run_finished(run)

    assert ended is not None and ended.data["total_steps"] == 1
    assert log.hints[-1] == ("run.succeeded", 3)
    assert log.reads == 1
