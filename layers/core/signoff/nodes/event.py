"""The node function's event (docs/internals.md, "Function events"): what a Task hands one node."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class RunContext(BaseModel):
    """The run a node belongs to: the execution input's `run`, source of the `sys.*` variables."""

    model_config = ConfigDict(extra="allow", frozen=True)

    run_id: str = Field(min_length=1)
    tenant_id: str = Field(min_length=1)
    workflow_id: str = Field(min_length=1)
    workflow_version: int | None = None
    user: str | None = None


class NodeSpec(BaseModel):
    """The node to run: its id, type, title and type-specific fields (`config`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    type: str = Field(min_length=1)
    title: str | None = None
    config: dict[str, Any] = Field(default_factory=dict)

    def document(self) -> dict[str, Any]:
        """The node in its workflow-document form, as the graph model parses it."""
        document = {**self.config, "id": self.id, "type": self.type}
        if self.title:
            document["title"] = self.title
        return document


class NodeEvent(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    run: RunContext
    node: NodeSpec
    # node id -> its outputs; null for a node that was skipped. Only the nodes this node's
    # selectors name are here.
    variables: dict[str, dict[str, Any] | None] = Field(default_factory=dict)
    attempt: int = Field(default=1, ge=1)
    # This node's outputs that native states read as they are (a Choice condition, a Map's
    # items): they are never replaced by a payload reference (signoff/payloads.py).
    keep_inline: list[str] = Field(default_factory=list)
    # Set when a reviewer sent the node's previous outputs back with feedback: the node runs
    # again with both (model-backed nodes add them to the conversation).
    feedback: str | None = None
    previous_output: Any = None
