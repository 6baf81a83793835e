"""Request and response bodies of the HTTP API: these models are what /openapi.json describes."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class IssueBody(BaseModel):
    code: str
    message: str
    node_id: str | None = None
    edge_id: str | None = None


class ErrorBody(BaseModel):
    status: int = Field(description="The HTTP status, repeated for clients that only see the body.")
    code: str = Field(description="Machine-readable error name, e.g. invalid_input, not_found.")
    message: str
    field: str | None = Field(default=None, description="The offending request field, if one.")
    issues: list[IssueBody] | None = Field(
        default=None, description="Every problem found in a workflow graph (invalid_graph)."
    )


class WorkflowDocument(BaseModel):
    """A workflow graph in signoff's native format; the graph validator checks every field."""

    model_config = ConfigDict(extra="allow")

    id: str | None = Field(
        default=None,
        description="The workflow id (letters, digits, '-', '_'); generated when left out.",
    )
    # Loosely typed on purpose: the graph validator reports every problem at once, by node.
    name: Any = Field(default=None, description="The workflow's name.")
    description: Any = Field(default=None, description="What the workflow does.")
    inputs: Any = Field(
        default=None,
        description="The run inputs: [{variable, type (string, paragraph, select, number, "
        "boolean, object, array), required, default, ...}].",
    )
    nodes: Any = Field(
        default=None,
        description="[{id, type (start, end, code, template-transform, if-else, ...), title, "
        "type-specific fields}].",
    )
    edges: Any = Field(
        default=None,
        description="[{source, target, source_handle (source, true, false, case id)}].",
    )


class WorkflowCreated(BaseModel):
    id: str
    version: int
    name: str
    state_machine_arn: str


class WorkflowSummary(BaseModel):
    id: str
    name: str
    description: str
    version: int
    state_machine_arn: str
    created_at: str
    updated_at: str


class WorkflowDetail(WorkflowSummary):
    graph: dict[str, Any]


class WorkflowList(BaseModel):
    data: list[WorkflowSummary]


class StartRunRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    inputs: dict[str, Any] = Field(
        default_factory=dict, description="Values for the workflow's declared inputs."
    )
    response_mode: Literal["blocking"] = Field(
        default="blocking",
        description="blocking: wait for the run to finish (202 with the run id if it takes "
        "longer than the API's wait).",
    )
    user: str | None = Field(default=None, description="Who the run is for (sys.user).")


class RunAccepted(BaseModel):
    run_id: str
    status: str


class NodeExecutionView(BaseModel):
    model_config = ConfigDict(extra="ignore")

    node_execution_id: str
    node_id: str
    node_type: str
    title: str | None = None
    attempt: int
    status: str
    inputs: dict[str, Any] | None = None
    outputs: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    started_at: str | None = None
    finished_at: str | None = None
    elapsed_ms: int | None = None


class RunProgress(BaseModel):
    finished_nodes: int = Field(description="Nodes of the graph whose latest execution ended.")
    total_nodes: int = Field(description="Nodes in the workflow graph.")


class RunView(BaseModel):
    run_id: str
    workflow_id: str
    workflow_version: int
    status: str
    inputs: dict[str, Any]
    outputs: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    user: str | None = None
    elapsed_time: float = Field(description="Seconds from creation to the end (or to now).")
    created_at: str
    started_at: str | None = None
    finished_at: str | None = None
    execution_arn: str | None = None
    current_nodes: list[NodeExecutionView]
    progress: RunProgress


class RunSummary(BaseModel):
    run_id: str
    workflow_id: str
    workflow_version: int
    status: str
    created_at: str
    finished_at: str | None = None


class RunList(BaseModel):
    data: list[RunSummary]


class NodeExecutionList(BaseModel):
    data: list[NodeExecutionView]


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    version: str
