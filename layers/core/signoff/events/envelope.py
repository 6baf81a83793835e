"""The one envelope every lifecycle event travels in: the event log, EventBridge, SSE, webhooks.

The envelope is versioned (`version`) and closed: a consumer can rely on every field below. The
shape of `data` depends on the type; docs/internals.md ("Events") lists it per type and
docs/events.schema.json is the JSON Schema generated from this model.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

RUN_EVENT_TYPES: tuple[str, ...] = (
    "run.started",
    "run.paused",
    "run.resumed",
    "run.succeeded",
    "run.partial_succeeded",
    "run.failed",
    "run.stopped",
)
NODE_EVENT_TYPES: tuple[str, ...] = (
    "node.started",
    "node.succeeded",
    "node.failed",
    "node.retrying",
    "node.exception",
)
REVIEW_EVENT_TYPES: tuple[str, ...] = (
    "review.requested",
    "review.approved",
    "review.revised",
    "review.edited",
    "review.submitted",
    "review.timed_out",
)
PROGRESS_EVENT_TYPES: tuple[str, ...] = (
    "iteration.started",
    "iteration.next",
    "iteration.completed",
    "loop.started",
    "loop.next",
    "loop.completed",
)
EVENT_TYPES: tuple[str, ...] = (
    RUN_EVENT_TYPES + NODE_EVENT_TYPES + REVIEW_EVENT_TYPES + PROGRESS_EVENT_TYPES
)
# The run.* events after which nothing more happens in the run.
TERMINAL_RUN_EVENT_TYPES: frozenset[str] = frozenset(
    {"run.succeeded", "run.partial_succeeded", "run.failed", "run.stopped"}
)

EventType = Literal[
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

EVENT_ID_PREFIX = "evt_"


def new_event_id() -> str:
    """A fresh, unique event id: "evt_" + 32 hex digits (a uuid4)."""
    return EVENT_ID_PREFIX + uuid.uuid4().hex


class Event(BaseModel):
    """One lifecycle event of a run: the unit the log stores and every subscriber receives."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^evt_[0-9a-f]{32}$", description="Unique, stable event id.")
    type: EventType = Field(description="What happened.")
    time: str = Field(description="When it happened: ISO 8601 UTC with milliseconds.")
    tenant: str
    workflow_id: str
    run_id: str
    node_id: str | None = None
    sequence: int = Field(ge=1, description="1, 2, 3 ... per run, without gaps.")
    data: dict[str, Any] = Field(default_factory=dict)
    version: Literal["1"] = "1"

    @field_validator("time")
    @classmethod
    def _utc_time(cls, value: str) -> str:
        if not value.endswith("Z"):
            raise ValueError("event times are UTC, written with a trailing Z")
        return value

    @property
    def is_terminal(self) -> bool:
        """A run.* event after which the run has nothing more to say."""
        return self.type in TERMINAL_RUN_EVENT_TYPES
