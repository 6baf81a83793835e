"""signoff's records in the shapes Dify's Service API answers with (the project's dify-wire notes).

Pure functions: no I/O. Dify clients parse these strictly, so names and types follow Dify
exactly: times are Unix seconds (int), elapsed times float seconds, a run's error is a string.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from signoff.graph.model import InputVariable, Workflow
from signoff.store import parse_iso
from signoff.store.runs import RunRecord, RunStatus
from signoff.store.workflows import WorkflowRecord

# Dify's start-variable kinds by signoff input type (a type Dify lacks keeps its own name).
_FORM_KINDS = {
    "string": "text-input",
    "paragraph": "paragraph",
    "select": "select",
    "number": "number",
    "boolean": "checkbox",
    "object": "json_object",
    "file": "file",
    "file-list": "file-list",
}
# Dify's upload limits (MB), which signoff's file reading honours (signoff.nodes.files).
FILE_SIZE_LIMIT_MB = 15
FILE_TYPES = ("document", "image", "audio", "video", "custom")
TRANSFER_METHODS = ("remote_url", "local_file")


def unix_seconds(moment: str | None) -> int | None:
    """An ISO 8601 record time as Unix seconds, as Dify answers every time."""
    return int(parse_iso(moment).timestamp()) if moment else None


def dify_status(status: RunStatus | str) -> str:
    """A run status as Dify names it: a run not yet started is already `running` there."""
    value = RunStatus(status).value
    return "running" if value == RunStatus.PENDING.value else value


def error_text(error: dict[str, Any] | None) -> str | None:
    """A run's error as Dify gives it: one message string."""
    if not error:
        return None
    message = error.get("message") or error.get("type") or "the run failed"
    return str(message)


def dify_workflow_id(run: RunRecord) -> str:
    """The `workflow_id` Dify gives a run: the id of the published version it ran (here the
    run's workflow version id); a run recorded without one names its workflow."""
    return run.workflow_version_id or run.workflow_id


@dataclass(frozen=True)
class RunFacts:
    """What a Dify run body needs beyond the run record: its elapsed time and step counts."""

    run: RunRecord
    elapsed_time: float
    total_steps: int = 0
    exceptions_count: int = 0


def run_data(facts: RunFacts) -> dict[str, Any]:
    """The `data` of a blocking run answer (and of workflow_finished, less the stream fields)."""
    run = facts.run
    return {
        "id": run.run_id,
        "workflow_id": dify_workflow_id(run),
        "status": dify_status(run.status),
        "outputs": run.outputs or {},
        "error": error_text(run.error),
        "elapsed_time": float(facts.elapsed_time),
        "total_tokens": int(run.total_tokens),
        "total_steps": facts.total_steps,
        "created_at": unix_seconds(run.created_at),
        "finished_at": unix_seconds(run.finished_at),
    }


def blocking_response(facts: RunFacts) -> dict[str, Any]:
    """POST /v1/workflows/run, response_mode blocking. The task id is the run id: stopping a
    task stops its run."""
    return {
        "task_id": facts.run.run_id,
        "workflow_run_id": facts.run.run_id,
        "data": run_data(facts),
    }


def run_detail(facts: RunFacts) -> dict[str, Any]:
    """GET /v1/workflows/run/{id}: inputs as a JSON string, as Dify stores and answers them."""
    run = facts.run
    return {
        "id": run.run_id,
        "workflow_id": dify_workflow_id(run),
        "status": dify_status(run.status),
        "inputs": json.dumps(run.inputs, ensure_ascii=False),
        "outputs": run.outputs or {},
        "error": error_text(run.error),
        "total_steps": facts.total_steps,
        "total_tokens": int(run.total_tokens),
        "created_at": unix_seconds(run.created_at),
        "finished_at": unix_seconds(run.finished_at),
        "elapsed_time": float(facts.elapsed_time),
    }


def end_user(user: str | None) -> dict[str, Any] | None:
    """The end user Dify records for a run started with `user` (its session id)."""
    if not user:
        return None
    return {"id": user, "type": "service_api", "is_anonymous": False, "session_id": user}


def log_entry(facts: RunFacts) -> dict[str, Any]:
    """One item of GET /v1/workflows/logs."""
    run = facts.run
    created_at = unix_seconds(run.created_at)
    return {
        "id": run.run_id,
        "workflow_run": {
            "id": run.run_id,
            "version": str(run.workflow_version),
            "status": dify_status(run.status),
            "error": error_text(run.error),
            "elapsed_time": float(facts.elapsed_time),
            "total_tokens": int(run.total_tokens),
            "total_steps": facts.total_steps,
            "created_at": created_at,
            "finished_at": unix_seconds(run.finished_at),
            "exceptions_count": facts.exceptions_count,
            "triggered_from": "app-run",
        },
        "created_from": "service-api",
        "created_by_role": "end_user" if run.user else "account",
        "created_by_account": None,
        "created_by_end_user": end_user(run.user),
        "created_at": created_at,
        "details": None,
    }


def logs_page(
    entries: Iterable[dict[str, Any]], *, page: int, limit: int, total: int
) -> dict[str, Any]:
    data = list(entries)
    return {
        "page": page,
        "limit": limit,
        "total": total,
        "has_more": page * limit < total,
        "data": data,
    }


def form_field(variable: InputVariable) -> dict[str, Any]:
    """A start variable as an entry of Dify's user_input_form: `{kind: {label, variable, ...}}`."""
    kind = _FORM_KINDS.get(variable.type, variable.type)
    body: dict[str, Any] = {
        "label": variable.label or variable.variable,
        "variable": variable.variable,
        "required": variable.required,
        "default": variable.default if variable.default is not None else "",
        "type": kind,
    }
    if variable.type in ("string", "paragraph"):
        body["max_length"] = variable.max_length
    if variable.type == "select":
        body["options"] = list(variable.options)
    return {kind: body}


def user_input_form(workflow: Workflow) -> list[dict[str, Any]]:
    return [form_field(variable) for variable in workflow.inputs]


def parameters(workflow: Workflow) -> dict[str, Any]:
    """GET /v1/parameters for a workflow app: its input form, what uploads it takes, limits.

    signoff has no app-level "sys.files" feature (files are input variables), so file_upload is
    disabled; uploaded files are passed as input values (transfer_method local_file)."""
    disabled = {"enabled": False}
    return {
        "opening_statement": "",
        "suggested_questions": [],
        "suggested_questions_after_answer": disabled,
        "speech_to_text": disabled,
        "text_to_speech": {"enabled": False, "voice": "", "language": ""},
        "retriever_resource": disabled,
        "annotation_reply": disabled,
        "more_like_this": disabled,
        "sensitive_word_avoidance": disabled,
        "user_input_form": user_input_form(workflow),
        "file_upload": {
            "enabled": False,
            "image": {
                "enabled": False,
                "number_limits": 3,
                "detail": "high",
                "transfer_methods": list(TRANSFER_METHODS),
            },
            "allowed_file_types": list(FILE_TYPES),
            "allowed_file_extensions": [],
            "allowed_file_upload_methods": list(TRANSFER_METHODS),
            "number_limits": 3,
        },
        "system_parameters": {
            "file_size_limit": FILE_SIZE_LIMIT_MB,
            "image_file_size_limit": FILE_SIZE_LIMIT_MB,
            "audio_file_size_limit": FILE_SIZE_LIMIT_MB,
            "video_file_size_limit": FILE_SIZE_LIMIT_MB,
            "workflow_file_upload_limit": 10,
        },
    }


def info(record: WorkflowRecord) -> dict[str, Any]:
    """GET /v1/info."""
    return {
        "name": record.name,
        "description": record.description,
        "tags": [],
        "mode": "workflow",
        "author_name": "",
    }


def meta() -> dict[str, Any]:
    """GET /v1/meta: the icons of the tools the app uses (signoff keeps none)."""
    return {"tool_icons": {}}


def site(record: WorkflowRecord) -> dict[str, Any]:
    """GET /v1/site: the web app's settings; signoff serves no web app, so Dify's defaults."""
    return {
        "title": record.name,
        "chat_color_theme": None,
        "chat_color_theme_inverted": False,
        "icon_type": "emoji",
        "icon": "🤖",
        "icon_background": "#FFEAD5",
        "icon_url": None,
        "description": record.description,
        "copyright": None,
        "privacy_policy": None,
        "custom_disclaimer": "",
        "default_language": "en-US",
        "show_workflow_steps": True,
        "use_icon_as_answer_icon": False,
    }


def upload_body(
    *, upload_id: str, name: str, size: int, mime_type: str, created_by: str, created_at: int
) -> dict[str, Any]:
    """POST /v1/files/upload: Dify names the extension without its dot."""
    extension = posixpath.splitext(name)[1].lstrip(".").lower()
    return {
        "id": upload_id,
        "name": name,
        "size": size,
        "extension": extension,
        "mime_type": mime_type,
        "created_by": created_by,
        "created_at": created_at,
    }


def human_input_form(form: Any) -> dict[str, Any]:
    """GET /v1/form/human_input/{form_token}: the form as human_input_required describes it
    (signoff.reviews.forms.HumanInputForm)."""
    return {
        "form_id": form.review_id,
        "form_token": form.form_token,
        "node_id": form.node_id,
        "node_title": form.node_title,
        "form_content": form.form_content,
        "inputs": form.inputs,
        "actions": form.user_actions,
        "user_actions": form.user_actions,
        "display_in_ui": True,
        "resolved_default_values": form.resolved_default_values,
        "expiration_time": form.expiration_time,
    }
