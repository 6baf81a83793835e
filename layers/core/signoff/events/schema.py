"""The JSON Schema of the event envelope, generated from the models: docs/events.schema.json and
GET /events/schema publish it. A unit test fails when the published file drifts from this.

The envelope is `signoff.events.envelope.Event`; `data` depends on `type`, so the schema adds one
`if type = ... then data is ...` rule per type, from the models below (the shapes
signoff/events/lifecycle.py builds). They are open (`additionalProperties` allowed): a consumer
must ignore fields it does not know, so fields can be added without a new version.

    python -m signoff.events.schema > docs/events.schema.json
"""

from __future__ import annotations

import json
import sys
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from signoff.events.envelope import EVENT_TYPES, Event

SCHEMA_ID = "urn:signoff:schemas:event:1"


class _Data(BaseModel):
    model_config = ConfigDict(extra="allow")


class RunError(_Data):
    node_id: str | None
    type: str | None
    message: str | None


class RunStartedData(_Data):
    inputs: dict[str, Any]
    workflow_version: int
    mode: Literal["normal", "step"]
    user: str | None
    created_at: str
    retry_of: str | None


class RunPausedData(_Data):
    review_id: str
    node_id: str
    kind: Literal["review", "step", "human-input"]


class RunResumedData(_Data):
    review_id: str
    node_id: str


class RunFinishedData(_Data):
    status: Literal["succeeded", "partial-succeeded", "failed", "stopped"]
    outputs: dict[str, Any] | None
    error: RunError | None
    created_at: str
    finished_at: str | None
    elapsed_time: float = Field(description="Seconds from created_at to finished_at.")
    total_tokens: int
    total_price: str
    currency: str | None
    total_steps: int = Field(description="Node attempts the run made.")
    exceptions_count: int = Field(description="Nodes whose error strategy handled a failure.")


class NodeStartedData(_Data):
    node_execution_id: str
    node_type: str
    title: str
    attempt: int
    inputs: dict[str, Any]
    created_at: str
    iteration_id: str | None
    iteration_index: int | None
    loop_id: str | None
    loop_index: int | None
    predecessor_node_id: str | None


class NodeUsage(_Data):
    total_tokens: int | None
    total_price: str | float | None
    currency: str | None


class NodeFinishedData(NodeStartedData):
    status: Literal["succeeded", "failed", "exception"]
    outputs: dict[str, Any] | None
    error: str | None
    error_type: str | None
    elapsed_time: float = Field(description="Seconds the attempt took.")
    finished_at: str | None
    usage: NodeUsage | None


class HumanInputForm(_Data):
    form_token: str
    form_content: Any
    inputs: Any
    actions: Any
    expiration_time: Any


class ReviewRequestedData(_Data):
    review_id: str
    kind: Literal["review", "step", "human-input"]
    round: int
    outputs: dict[str, Any] | None
    created_at: str
    expires_at: str | None
    form: HumanInputForm | None = Field(default=None, description="Only for kind human-input.")


class ReviewDecidedData(_Data):
    review_id: str
    kind: Literal["review", "step", "human-input"]
    round: int
    decided_by: str | None
    decided_at: str | None
    feedback: str | None
    outputs: dict[str, Any] | None = Field(description="The edited outputs (review.edited).")
    action_id: str | None
    inputs: dict[str, Any] | None


class ReviewTimedOutData(_Data):
    review_id: str
    kind: Literal["review", "step", "human-input"]
    round: int
    on_timeout: str | None


class ProgressData(_Data):
    node_type: str
    title: str
    index: int | None
    inputs: dict[str, Any] | None
    outputs: dict[str, Any] | None
    status: str | None
    error: str | None
    created_at: str


DATA_MODELS: dict[str, type[BaseModel]] = {
    "run.started": RunStartedData,
    "run.paused": RunPausedData,
    "run.resumed": RunResumedData,
    **dict.fromkeys(
        ("run.succeeded", "run.partial_succeeded", "run.failed", "run.stopped"), RunFinishedData
    ),
    "node.started": NodeStartedData,
    **dict.fromkeys(
        ("node.succeeded", "node.failed", "node.exception", "node.retrying"), NodeFinishedData
    ),
    "review.requested": ReviewRequestedData,
    **dict.fromkeys(
        ("review.approved", "review.revised", "review.edited", "review.submitted"),
        ReviewDecidedData,
    ),
    "review.timed_out": ReviewTimedOutData,
    **dict.fromkeys(
        (
            "iteration.started",
            "iteration.next",
            "iteration.completed",
            "loop.started",
            "loop.next",
            "loop.completed",
        ),
        ProgressData,
    ),
}


def event_json_schema() -> dict[str, Any]:
    """The envelope's JSON Schema (draft 2020-12), with the data shape of every type."""
    schema = Event.model_json_schema(ref_template="#/$defs/{model}")
    definitions: dict[str, Any] = schema.setdefault("$defs", {})
    rules = []
    for event_type in EVENT_TYPES:
        model = DATA_MODELS[event_type]
        model_schema = model.model_json_schema(ref_template="#/$defs/{model}")
        definitions.update(model_schema.pop("$defs", {}))
        definitions[model.__name__] = model_schema
        rules.append(
            {
                "if": {"properties": {"type": {"const": event_type}}},
                "then": {"properties": {"data": {"$ref": f"#/$defs/{model.__name__}"}}},
            }
        )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **schema,
        "title": "signoff event",
        "description": (
            "A lifecycle event of a run, as the event log stores it, EventBridge carries it "
            "(detail-type = type, detail = the envelope), webhooks deliver it and GET "
            "/runs/{id}/events streams it."
        ),
        "allOf": rules,
        "$defs": dict(sorted(definitions.items())),
    }


def event_json_schema_text() -> str:
    """The schema as published in docs/events.schema.json."""
    return json.dumps(event_json_schema(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    sys.stdout.write(event_json_schema_text())
