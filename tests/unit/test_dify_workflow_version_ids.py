"""Dify's workflow id of a run is the id of the version it ran: the blocking answer, the run detail
and the stream's workflow events name it; an app key reads its own workflow's versions."""

from __future__ import annotations

from typing import Any

from signoff.api.access import check_access
from signoff.auth.principal import Principal
from signoff.difyapi import shapes
from signoff.difyapi.shapes import RunFacts
from signoff.errors import Forbidden
from signoff.events.dify_sse import dify_stream_events
from signoff.events.envelope import Event, new_event_id
from signoff.store.runs import RunRecord, RunStatus
from signoff.streaming.frames import replay_frames

VERSION_ID = "0b6f6c0e-8c4e-4a53-9d0e-3f5b1b7c2a10"
T0 = "2025-01-02T03:04:05.678Z"


def run(**changes: Any) -> RunRecord:
    fields: dict[str, Any] = {
        "tenant_id": "t",
        "run_id": "r-1",
        "workflow_id": "greeter",
        "workflow_version": 2,
        "workflow_version_id": VERSION_ID,
        "status": RunStatus.SUCCEEDED,
        "inputs": {"name": "Ada"},
        "outputs": {"greeting": "Hello, Ada!"},
        "created_at": T0,
        "finished_at": T0,
    }
    return RunRecord(**{**fields, **changes})


def envelope(type_: str, data: dict[str, Any], *, sequence: int = 1, node_id: str | None = None):
    return Event(
        id=new_event_id(),
        type=type_,
        time=T0,
        tenant="t",
        workflow_id="greeter",
        run_id="r-1",
        node_id=node_id,
        sequence=sequence,
        data=data,
    )


def test_given_a_run_of_a_version_then_the_blocking_answer_and_detail_name_the_version_id():
    facts = RunFacts(run(), elapsed_time=1.0)

    assert shapes.blocking_response(facts)["data"]["workflow_id"] == VERSION_ID
    assert shapes.run_detail(facts)["workflow_id"] == VERSION_ID


def test_given_a_run_recorded_without_a_version_id_then_its_workflow_id_is_named():
    facts = RunFacts(run(workflow_version_id=None), elapsed_time=1.0)

    assert shapes.blocking_response(facts)["data"]["workflow_id"] == "greeter"


def test_given_a_workflow_id_then_only_the_workflow_events_carry_it():
    kinds = [
        ("run.started", {"inputs": {}}, None),
        ("run.resumed", {"inputs": {}}, None),
        ("node.started", {"node_type": "template-transform", "created_at": T0}, "greet"),
        ("run.succeeded", {"outputs": {}, "created_at": T0, "finished_at": T0}, None),
    ]

    named = {}
    for type_, data, node_id in kinds:
        for event in dify_stream_events(
            envelope(type_, data, node_id=node_id), task_id="r-1", workflow_id=VERSION_ID
        ):
            named[(event["event"], event["data"].get("reason"))] = event["data"].get("workflow_id")

    assert named == {
        ("workflow_started", "initial"): VERSION_ID,
        ("workflow_started", "resumption"): VERSION_ID,
        ("node_started", None): None,
        ("workflow_finished", None): VERSION_ID,
    }


def test_given_no_workflow_id_then_the_events_name_the_envelopes_workflow():
    (started,) = dify_stream_events(envelope("run.started", {"inputs": {}}), task_id="r-1")

    assert started["data"]["workflow_id"] == "greeter"


class OneEventLog:
    """A run's event log holding its start only: the record's end closes the replay."""

    def read(self, *, tenant_id: str, run_id: str, after: int, limit: int) -> list[Event]:
        started = envelope("run.started", {"inputs": {}, "created_at": T0})
        return [started] if after < started.sequence else []


def test_given_a_workflow_id_when_replayed_then_the_records_end_names_it_too():
    body = b"".join(
        replay_frames(
            OneEventLog(),  # type: ignore[arg-type]
            tenant_id="t",
            run_id="r-1",
            read_run=run,
            workflow_id=VERSION_ID,
        )
    ).decode()

    assert body.count(f'"workflow_id":"{VERSION_ID}"') == 2
    assert '"event":"workflow_finished"' in body


class Runs:
    def workflow_of_run(self, tenant_id: str, run_id: str) -> str:
        return "wf-1"


def test_given_an_app_key_then_it_reads_its_own_workflows_versions_only():
    app = Principal(tenant_id="t", key_id="k2", role="app", workflow_id="wf-1")

    def allowed(method: str, path: str, **params: str) -> bool:
        try:
            check_access(app, method, path, params, Runs())
        except Forbidden:
            return False
        return True

    assert allowed("GET", "/workflows/<workflow_id>/versions", workflow_id="wf-1")
    assert allowed("GET", "/workflows/<workflow_id>/versions/<version>", workflow_id="wf-1")
    assert not allowed("GET", "/workflows/<workflow_id>/versions", workflow_id="wf-2")
    assert not allowed("GET", "/workflows/<workflow_id>/versions/<version>", workflow_id="wf-2")
    # Reading, not making one.
    assert not allowed("PUT", "/workflows/<workflow_id>", workflow_id="wf-1")
