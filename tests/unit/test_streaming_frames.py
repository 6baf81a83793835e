"""A run's event stream as SSE bytes (ids, pings, the end, errors); the stream function."""

from __future__ import annotations

import json
from typing import Any

from signoff.local.provision import plan_stack
from signoff.local.template import load_template
from signoff.store.runs import RunRecord, RunStatus
from signoff.streaming.frames import StreamError, run_frames
from tests.unit.test_events_stream import FakeClock, FakeLog, envelope


def frames_of(chunks: list[bytes]) -> list[dict[str, Any]]:
    """Each frame as {id, event, data}."""
    parsed = []
    for frame in b"".join(chunks).decode().split("\n\n"):
        if not frame:
            continue
        fields: dict[str, Any] = {}
        for line in frame.split("\n"):
            name, _, value = line.partition(": ")
            fields[name] = json.loads(value) if name == "data" else value
        parsed.append(fields)
    return parsed


def record(status: RunStatus) -> RunRecord:
    return RunRecord(
        tenant_id="t1",
        run_id="run-1",
        workflow_id="wf",
        workflow_version=1,
        status=status,
        inputs={},
        outputs={"answer": 42},
        created_at="2025-01-02T03:04:05.000Z",
        finished_at="2025-01-02T03:04:07.500Z",
    )


def test_given_a_run_then_each_frame_carries_its_sequence_and_the_stream_ends_after_the_finish():
    clock = FakeClock()
    log = FakeLog(
        clock,
        [
            (0.0, envelope(1, "run.started")),
            (0.0, envelope(2, "review.approved", kind="review")),  # no Dify event
            (25.0, envelope(3, "node.started")),
            (25.0, envelope(4, "run.succeeded", status="succeeded")),
        ],
    )

    chunks = list(run_frames(log, tenant_id="t1", run_id="run-1", clock=clock, sleep=clock.sleep))

    frames = frames_of(chunks)
    data = [frame for frame in frames if "data" in frame]
    assert [(frame["id"], frame["data"]["event"]) for frame in data] == [
        ("1", "workflow_started"),
        ("3", "node_started"),
        ("4", "workflow_finished"),
    ]
    # 25 s of silence: two pings, 10 s apart.
    assert [frame for frame in frames if "data" not in frame] == [{"event": "ping"}] * 2
    assert all(frame["data"]["task_id"] == "run-1" for frame in data)


def test_given_a_run_whose_end_never_reached_the_log_then_the_record_ends_the_stream():
    clock = FakeClock()
    log = FakeLog(clock, [(0.0, envelope(1, "run.started"))])

    chunks = list(
        run_frames(
            log,
            tenant_id="t1",
            run_id="run-1",
            clock=clock,
            sleep=clock.sleep,
            read_run=lambda: record(RunStatus.SUCCEEDED),
        )
    )

    frames = frames_of(chunks)
    last = frames[-1]
    assert "id" not in last  # not an event of the log
    assert last["data"]["event"] == "workflow_finished"
    assert last["data"]["data"]["status"] == "succeeded"
    assert last["data"]["data"]["outputs"] == {"answer": 42}
    assert last["data"]["data"]["elapsed_time"] == 2.5


def test_given_the_log_failing_mid_stream_then_an_error_event_ends_it():
    class BrokenLog:
        def read(self, **_: Any) -> list[Any]:
            raise RuntimeError("table gone")

    chunks = list(
        run_frames(
            BrokenLog(),  # type: ignore[arg-type]
            tenant_id="t1",
            run_id="run-1",
            describe_error=lambda error: StreamError(503, "unavailable", "try again"),
        )
    )

    assert frames_of(chunks) == [
        {
            "data": {
                "event": "error",
                "task_id": "run-1",
                "workflow_run_id": "run-1",
                "status": 503,
                "code": "unavailable",
                "message": "try again",
            }
        }
    ]


def test_the_stream_function_has_every_setting_and_permission_of_the_api_function():
    """The stream function answers blocking starts through the api's resolver in process: it
    needs exactly what the api function has (and the api function's list may grow)."""
    template = load_template(plan_stack().template_path)
    functions = template["Resources"]
    api = functions["ApiFunction"]["Properties"]
    stream = functions["StreamFunction"]["Properties"]

    api_variables = api["Environment"]["Variables"]
    stream_variables = stream["Environment"]["Variables"]
    assert {name: stream_variables.get(name) for name in api_variables} == api_variables
    assert all(policy in stream["Policies"] for policy in api["Policies"])
    assert stream_variables["AWS_LWA_INVOKE_MODE"] == "response_stream"
    assert stream_variables["AWS_LAMBDA_EXEC_WRAPPER"] == "/opt/bootstrap"
    assert stream["Handler"] == "run.sh"
    modes = {
        event["Properties"]["Path"]: event["Properties"]["ResponseTransferMode"]
        for event in stream["Events"].values()
    }
    assert set(modes.values()) == {"RESPONSE_STREAM"}
    assert {"/workflows/{workflow_id}/runs", "/runs/{run_id}/events"} <= set(modes)
