"""Request and response bodies of the Dify-compatible /v1 routes, as /openapi.json describes them.

The field names and types are Dify's (its Service API for workflow apps); the shapes themselves
are built in signoff.difyapi.shapes.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class DifyError(BaseModel):
    """Every /v1 error: Dify's shape."""

    status: int
    code: str = Field(description="invalid_param, unauthorized, not_found, too_many_requests, ...")
    message: str
    error_code: int = Field(description="signoff's numeric error code (1000s parameters, ...)")


class DifyFile(BaseModel):
    """A file value: an upload (local_file + upload_file_id) or a URL (remote_url + url)."""

    model_config = ConfigDict(extra="allow")

    type: Literal["image", "document", "audio", "video", "custom"] = "document"
    transfer_method: Literal["remote_url", "local_file"]
    url: str | None = None
    upload_file_id: str | None = None


class DifyRunRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    inputs: dict[str, Any] = Field(
        default_factory=dict,
        description="Values of the workflow's start variables; a file variable takes a file "
        "object ({type, transfer_method: local_file, upload_file_id} or remote_url + url).",
    )
    response_mode: Literal["blocking", "streaming"] = Field(
        default="blocking",
        description="streaming: server-sent events; blocking (the default, as in Dify): the "
        "finished run.",
    )
    user: str = Field(min_length=1, description="The end user's id (sys.user).")
    files: list[DifyFile] | None = Field(
        default=None,
        description="Dify's app-level sys.files; signoff takes files as input variables, so "
        "this must be empty.",
    )


class DifyRunData(BaseModel):
    id: str
    workflow_id: str
    status: str = Field(
        description="running, paused, succeeded, failed, stopped or partial-succeeded"
    )
    outputs: dict[str, Any]
    error: str | None = None
    elapsed_time: float
    total_tokens: int
    total_steps: int
    created_at: int
    finished_at: int | None = None


class DifyBlockingResponse(BaseModel):
    task_id: str
    workflow_run_id: str
    data: DifyRunData


class DifyTaskStarted(BaseModel):
    task_id: str
    workflow_run_id: str


class DifyRunDetail(BaseModel):
    id: str
    workflow_id: str
    status: str
    inputs: str = Field(description="The run's inputs as a JSON string, as Dify answers them.")
    outputs: dict[str, Any]
    error: str | None = None
    total_steps: int
    total_tokens: int
    created_at: int
    finished_at: int | None = None
    elapsed_time: float


class DifyStopRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    user: str = Field(min_length=1)


class DifyStopResult(BaseModel):
    result: Literal["success"] = "success"


class DifyEndUser(BaseModel):
    id: str
    type: str
    is_anonymous: bool
    session_id: str


class DifyLogRun(BaseModel):
    id: str
    version: str
    status: str
    error: str | None = None
    elapsed_time: float
    total_tokens: int
    total_steps: int
    created_at: int
    finished_at: int | None = None
    exceptions_count: int
    triggered_from: str


class DifyLogEntry(BaseModel):
    id: str
    workflow_run: DifyLogRun
    created_from: str
    created_by_role: str
    created_by_account: dict[str, Any] | None = None
    created_by_end_user: DifyEndUser | None = None
    created_at: int
    details: Any = None


class DifyLogsPage(BaseModel):
    page: int
    limit: int
    total: int
    has_more: bool
    data: list[DifyLogEntry]


class DifyParameters(BaseModel):
    model_config = ConfigDict(extra="allow")

    user_input_form: list[dict[str, Any]]
    file_upload: dict[str, Any]
    system_parameters: dict[str, Any]


class DifyInfo(BaseModel):
    name: str
    description: str
    tags: list[str]
    mode: str
    author_name: str


class DifyMeta(BaseModel):
    tool_icons: dict[str, Any]


class DifySite(BaseModel):
    model_config = ConfigDict(extra="allow")

    title: str
    description: str | None = None
    default_language: str


class DifyUpload(BaseModel):
    id: str
    name: str
    size: int
    extension: str
    mime_type: str
    created_by: str
    created_at: int


class DifyHumanInputForm(BaseModel):
    form_id: str
    form_token: str
    node_id: str
    node_title: str
    form_content: str
    inputs: list[dict[str, Any]]
    actions: list[dict[str, Any]]
    user_actions: list[dict[str, Any]]
    display_in_ui: bool
    resolved_default_values: dict[str, Any]
    expiration_time: int | None = None


class DifyFormSubmission(BaseModel):
    model_config = ConfigDict(extra="ignore")

    inputs: dict[str, Any] = Field(default_factory=dict, description="The form's values.")
    action: str = Field(min_length=1, description="The id of the button pressed.")
    user: str | None = Field(default=None, description="Who submits (the end user).")
