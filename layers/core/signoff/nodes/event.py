"""The node function's event (docs/internals.md, "Function events"): what a Task hands one node."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from signoff.store.reviews import IndexStep


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


class NodeScopeFields(BaseModel):
    """Where a node inside iterations or loops runs: the innermost iteration and loop around it
    and the item's and round's index (0-based); null outside. `path`: every container around
    it, outermost first, with its item's or round's index (as a wait's scope), recorded on the
    node's executions."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    iteration_id: str | None = None
    iteration_index: int | None = None
    loop_id: str | None = None
    loop_index: int | None = None
    path: list[IndexStep] = Field(default_factory=list)


class ProgressNotice(BaseModel):
    """An iteration.* or loop.* event the compiler asks the node function to emit (see
    compiler/lowering/progress.py): its container and what its data says."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal[
        "iteration.started",
        "iteration.next",
        "iteration.completed",
        "loop.started",
        "loop.next",
        "loop.completed",
    ]
    node_id: str = Field(min_length=1)
    node_type: Literal["iteration", "loop"]
    title: str | None = None
    index: int | None = None
    inputs: dict[str, Any] | None = None
    outputs: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    # completed: when the container began (its started Task's answer) and how many items or
    # rounds ran.
    started_at: str | None = None
    steps: int | None = None


class ProgressRequest(BaseModel):
    """A progress Task's event: no node runs, the notices are emitted in order."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    request: Literal["progress"]
    run: RunContext
    progress: list[ProgressNotice] = Field(default_factory=list)


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
    # Inside iterations and loops: where the node runs (for its node.* events).
    scope: NodeScopeFields | None = None
    # Set on the node that begins each item or round of its container: the iteration.next or
    # loop.next to emit as it begins (the first time only, not on a review's later rounds).
    progress: list[ProgressNotice] = Field(default_factory=list)
