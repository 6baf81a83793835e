"""Request and response bodies of the HTTP API: these models are what /openapi.json describes."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from signoff.api.review_models import PlaceInBody, ReviewView


class IssueBody(BaseModel):
    code: str
    message: str
    node_id: str | None = None
    edge_id: str | None = None


class ErrorBody(BaseModel):
    status: int = Field(description="The HTTP status, repeated for clients that only see the body.")
    code: str = Field(description="Machine-readable error name, e.g. invalid_input, not_found.")
    message: str
    error_code: int = Field(
        description="The numeric error code: 1000s parameters, 2000s authentication and limits, "
        "3000s resources, 4000s execution, 5000s system."
    )
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
    version_id: str | None = Field(
        default=None, description="The version's id (a UUID; Dify's workflow_id of a version)."
    )


class WorkflowSummary(BaseModel):
    id: str
    name: str
    description: str
    version: int = Field(description="The newest version (1, 2, ...).")
    state_machine_arn: str
    created_at: str
    updated_at: str = Field(description="When the newest version was made.")
    version_id: str | None = Field(
        default=None,
        description="The newest version's id (a UUID; POST /v1/workflows/{workflow_id}/run "
        "runs the version it names).",
    )


class WorkflowDetail(WorkflowSummary):
    graph: dict[str, Any]


class WorkflowList(BaseModel):
    data: list[WorkflowSummary]


# --- workflow versions (PUT /workflows/{id} makes one; every version stays runnable)
class WorkflowVersionSummary(BaseModel):
    version: int = Field(description="1 for the graph the workflow was created with, then 2, ...")
    version_id: str | None = Field(
        default=None,
        description="The version's id (a UUID): Dify's workflow_id of a published version.",
    )
    name: str
    description: str
    state_machine_arn: str = Field(description="The state machine that runs this version.")
    created_at: str = Field(description="When this version was made.")
    created_by: str | None = Field(default=None, description="Who made this version.")


class WorkflowVersionDetail(WorkflowVersionSummary):
    workflow_id: str
    graph: dict[str, Any]


class WorkflowVersionList(BaseModel):
    data: list[WorkflowVersionSummary] = Field(description="Every version, oldest first.")


class StartRunRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    inputs: dict[str, Any] = Field(
        default_factory=dict, description="Values for the workflow's declared inputs."
    )
    response_mode: Literal["blocking", "streaming"] = Field(
        default="blocking",
        description="blocking: wait for the run to finish (202 with the run id if it takes "
        "longer than the API's wait). streaming: the answer is the run's events as Server-Sent "
        "Events in Dify's format (text/event-stream), until it finishes or pauses; where the "
        "API cannot stream it answers 202 with the run id (follow GET /runs/{run_id}/events).",
    )
    user: str | None = Field(default=None, description="Who the run is for (sys.user).")
    mode: Literal["normal", "step"] = Field(
        default="normal",
        description="step: the run pauses after every node; each pause is a review that approve "
        "(or edit) continues.",
    )
    version: int | None = Field(
        default=None,
        ge=1,
        description="The workflow version to run (GET /workflows/{workflow_id}/versions); the "
        "newest when left out. An unknown version answers 404 workflow_version_not_found.",
    )


class RunAccepted(BaseModel):
    run_id: str
    status: str


class NodeExecutionView(PlaceInBody):
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
    round: int | None = Field(
        default=None, description="The review round of these outputs (1, 2... per revise)."
    )
    review: ReviewView | None = Field(
        default=None,
        description="The review of these outputs: the decision, feedback, who decided and when.",
    )


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
    mode: str = Field(default="normal", description="normal, or step (a pause after every node).")
    retry_of: str | None = Field(default=None, description="The run this one retries.")
    total_tokens: int = Field(default=0, description="Model tokens used by the run's nodes.")
    total_price: str = Field(default="0", description="Their price (decimal text).")
    currency: str | None = Field(default=None, description="The price's currency, e.g. USD.")


class RunSummary(BaseModel):
    run_id: str
    workflow_id: str
    workflow_version: int
    status: str
    created_at: str
    finished_at: str | None = None
    mode: str = "normal"
    retry_of: str | None = None


class RunList(BaseModel):
    data: list[RunSummary]
    page: int = Field(default=1, description="This page's number (from 1).")
    limit: int = Field(default=20, description="Runs per page.")
    has_more: bool = Field(default=False, description="Whether a next page has runs.")


class NodeExecutionList(BaseModel):
    data: list[NodeExecutionView]


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    version: str
