"""The event envelope and its published JSON Schema."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from pydantic import ValidationError

from signoff.events.envelope import EVENT_TYPES, Event, new_event_id
from signoff.events.schema import DATA_MODELS, event_json_schema, event_json_schema_text

ROOT = Path(__file__).resolve().parents[3]
PUBLISHED = ROOT / "docs" / "events.schema.json"

CONTRACT_TYPES = [
    "run.started",
    "run.paused",
    "run.resumed",
    "run.succeeded",
    "run.partial_succeeded",
    "run.failed",
    "run.stopped",
    "node.started",
    "node.succeeded",
    "node.failed",
    "node.retrying",
    "node.exception",
    "review.requested",
    "review.approved",
    "review.revised",
    "review.edited",
    "review.submitted",
    "review.timed_out",
    "iteration.started",
    "iteration.next",
    "iteration.completed",
    "loop.started",
    "loop.next",
    "loop.completed",
]


def envelope(**changes) -> dict:
    return {
        "id": new_event_id(),
        "type": "run.paused",
        "time": "2025-01-02T03:04:05.678Z",
        "tenant": "tenant-a",
        "workflow_id": "wf",
        "run_id": "run-1",
        "node_id": "draft",
        "sequence": 3,
        "data": {"review_id": "rv-1", "node_id": "draft", "kind": "review"},
        **changes,
    }


def test_the_types_are_exactly_the_contracts():
    assert tuple(CONTRACT_TYPES) == EVENT_TYPES


def test_given_an_envelope_then_it_round_trips_through_json_and_is_frozen():
    event = Event.model_validate(envelope())

    assert Event.model_validate_json(event.model_dump_json()) == event
    assert event.version == "1"
    with pytest.raises(ValidationError):
        event.sequence = 4  # type: ignore[misc]


def test_event_ids_are_evt_and_32_hex_and_unique():
    ids = {new_event_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(i.startswith("evt_") and len(i) == 36 for i in ids)


@pytest.mark.parametrize(
    "change",
    [
        {"type": "run.exploded"},
        {"sequence": 0},
        {"id": "evt_nothex"},
        {"time": "2025-01-02T03:04:05"},
        {"version": "2"},
        {"surprise": True},
    ],
)
def test_given_a_wrong_field_then_the_envelope_is_refused(change):
    with pytest.raises(ValidationError):
        Event.model_validate(envelope(**change))


def test_terminal_events_are_the_run_endings():
    terminal = {t for t in EVENT_TYPES if Event.model_validate(envelope(type=t)).is_terminal}
    assert terminal == {"run.succeeded", "run.partial_succeeded", "run.failed", "run.stopped"}


def test_the_published_schema_is_the_generated_one():
    # When this fails, regenerate the file: make events-schema
    assert PUBLISHED.read_text(encoding="utf-8") == event_json_schema_text()


def test_every_type_has_a_data_shape_in_the_schema():
    assert set(DATA_MODELS) == set(EVENT_TYPES)
    schema = event_json_schema()
    assert [rule["if"]["properties"]["type"]["const"] for rule in schema["allOf"]] == list(
        EVENT_TYPES
    )


def test_given_the_schema_then_a_good_event_validates_and_a_bad_data_shape_does_not():
    schema = json.loads(PUBLISHED.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)

    validator.validate(Event.model_validate(envelope()).model_dump(mode="json"))
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(envelope(data={"review_id": "rv-1"}))  # node_id and kind missing
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(envelope(type="run.unknown"))
