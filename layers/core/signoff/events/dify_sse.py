"""Lifecycle events as Dify's Server-Sent Events: the wire format of signoff's streaming routes.

`dify_stream_events` turns one envelope (signoff.events.envelope) into the Dify stream events it
stands for: workflow_started, node_started, node_finished, node_retry, iteration_* and loop_*,
human_input_required, workflow_paused, human_input_form_filled, human_input_form_timeout and
workflow_finished. Every such event has `event`, `task_id`, `workflow_run_id` and `data` at the top
level; times are Unix seconds (int), elapsed times float seconds, as Dify's clients parse them.
Envelopes Dify has no event for (a review decision of kind "review" or "step") map to none.

Large values stay out of the stream: a payload reference (`{"$signoff_ref": ...}`, see
signoff/payloads.py) becomes a short text marker, and the event says so with its `*_truncated`
flag. The full value is read through the run's routes (GET /runs/{id}, GET /runs/{id}/nodes).

`sse_frame` writes one frame (`id: <sequence>` + `data: <json>`); the id is the envelope's
sequence, so a client reconnecting with Last-Event-ID resumes after the last event it saw.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from signoff.events.envelope import Event
from signoff.payloads import REF, is_ref
from signoff.store import parse_iso

PING_FRAME = b"event: ping\n\n"

# What a large value looks like in the stream (its size in bytes is filled in).
TRUNCATED_MARKER = "[truncated: {size} bytes]"

WORKFLOW_STATUSES: dict[str, str] = {
    "run.succeeded": "succeeded",
    "run.partial_succeeded": "partial-succeeded",
    "run.failed": "failed",
    "run.stopped": "stopped",
}
NODE_STATUSES: dict[str, str] = {
    "node.succeeded": "succeeded",
    "node.failed": "failed",
    "node.exception": "exception",
    # Dify's status of a failed attempt that is retried.
    "node.retrying": "retry",
}
# Why a run paused, as workflow_paused's reasons name it, by the wait's kind.
PAUSE_REASONS: dict[str, str] = {
    "human-input": "human_input_required",
    "review": "review_required",
    "step": "step",
}
HUMAN_INPUT = "human-input"


def sse_frame(payload: Mapping[str, Any], *, event_id: int | None = None) -> bytes:
    """One Server-Sent Events frame: `id: <n>` (when given) and `data: <compact JSON>`.

    JSON escapes every line break inside strings, so the data is always one line."""
    data = json.dumps(payload, separators=(",", ":"), default=str)
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}data: {data}\n\n".encode()


def dify_error_event(
    *, task_id: str, workflow_run_id: str | None, status: int, code: str, message: str
) -> dict[str, Any]:
    """Dify's `error` event: what went wrong mid-stream (the HTTP status stays 200)."""
    return {
        "event": "error",
        "task_id": task_id,
        "workflow_run_id": workflow_run_id,
        "status": status,
        "code": code,
        "message": message,
    }


def dify_stream_events(
    event: Event, *, task_id: str, workflow_id: str | None = None
) -> list[dict[str, Any]]:
    """The Dify stream events (zero or one today) that one lifecycle envelope stands for.

    `workflow_id`: what the events that name a workflow (workflow_started, workflow_finished)
    call it. Dify's workflow id is a published version's, so the /v1 streams pass the run's
    version id; without it, the envelope's workflow id."""
    builder = _BUILDERS.get(event.type)
    if builder is None:
        return []
    data = builder(event)
    if data is None:
        return []
    name, body = data
    if workflow_id is not None and "workflow_id" in body:
        body["workflow_id"] = workflow_id
    return [{"event": name, "task_id": task_id, "workflow_run_id": event.run_id, "data": body}]


# ------------------------------------------------------------------ conversions


def unix_seconds(value: Any, default: str | None = None) -> int | None:
    """An ISO 8601 time (as every record holds it) as Unix seconds; None stays None."""
    text = value if isinstance(value, str) and value else default
    if not text:
        return None
    try:
        return int(parse_iso(text).timestamp())
    except ValueError:
        return None


def truncated(value: Any) -> tuple[Any, bool]:
    """The value with every payload reference in it replaced by a marker, and whether one was."""
    if is_ref(value):
        return _marker(value), True
    if isinstance(value, Mapping):
        pairs = {key: truncated(item) for key, item in value.items()}
        return {key: shown for key, (shown, _) in pairs.items()}, any(
            found for _, found in pairs.values()
        )
    if isinstance(value, list):
        items = [truncated(item) for item in value]
        return [shown for shown, _ in items], any(found for _, found in items)
    return value, False


def _marker(value: Mapping[str, Any]) -> str:
    reference = value.get(REF) or {}
    size = reference.get("size") if isinstance(reference, Mapping) else None
    return TRUNCATED_MARKER.format(size=size if isinstance(size, int) else "?")


def _mapping_field(value: Any) -> tuple[dict[str, Any], bool]:
    """A dict-valued field (inputs, outputs): markers for references, {} for nothing."""
    if value is None:
        return {}, False
    if is_ref(value):
        # The whole mapping travelled as one reference (too large even as references).
        return {}, True
    shown, was_truncated = truncated(value)
    if not isinstance(shown, dict):
        return {"value": shown}, was_truncated
    return shown, was_truncated


def _optional_mapping_field(value: Any) -> tuple[dict[str, Any] | None, bool]:
    if value is None:
        return None, False
    return _mapping_field(value)


def _float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _error_text(error: Any) -> str | None:
    """Dify's errors are text: a run's error object ({node_id, type, message}) becomes its
    message, prefixed by its type."""
    if error is None or error == "":
        return None
    if isinstance(error, Mapping):
        message = str(error.get("message") or "")
        kind = error.get("type")
        return f"{kind}: {message}" if kind and message else (message or str(kind or "error"))
    return str(error)


def _execution_metadata(usage: Any) -> dict[str, Any]:
    if not isinstance(usage, Mapping):
        return {}
    return {
        "total_tokens": _int(usage.get("total_tokens")),
        "total_price": str(
            usage.get("total_price") if usage.get("total_price") is not None else "0"
        ),
        "currency": usage.get("currency") or "USD",
    }


def _title(event: Event) -> str:
    data = event.data
    return str(data.get("title") or data.get("node_title") or event.node_id or "")


# ------------------------------------------------------------------ one builder per type

_Built = tuple[str, dict[str, Any]] | None


def _workflow_started(event: Event) -> _Built:
    data = event.data
    inputs, _ = _mapping_field(data.get("inputs"))
    return "workflow_started", {
        "id": event.run_id,
        "workflow_id": event.workflow_id,
        "inputs": inputs,
        "created_at": unix_seconds(data.get("created_at"), event.time),
        "reason": "initial",
    }


def _workflow_resumed(event: Event) -> _Built:
    data = event.data
    inputs, _ = _mapping_field(data.get("inputs"))
    return "workflow_started", {
        "id": event.run_id,
        "workflow_id": event.workflow_id,
        "inputs": inputs,
        "created_at": unix_seconds(event.time),
        "reason": "resumption",
    }


def _workflow_finished(event: Event) -> _Built:
    data = event.data
    outputs, _ = _mapping_field(data.get("outputs"))
    user = data.get("user")
    return "workflow_finished", {
        "id": event.run_id,
        "workflow_id": event.workflow_id,
        "status": WORKFLOW_STATUSES[event.type],
        "outputs": outputs,
        "error": _error_text(data.get("error")),
        "elapsed_time": _float(data.get("elapsed_time")),
        "total_tokens": _int(data.get("total_tokens")),
        "total_steps": _int(data.get("total_steps")),
        "created_at": unix_seconds(data.get("created_at"), event.time),
        "finished_at": unix_seconds(data.get("finished_at"), event.time),
        "created_by": {"id": str(user), "user": str(user)} if user else {},
        "exceptions_count": _int(data.get("exceptions_count")),
        "files": [],
    }


def _workflow_paused(event: Event) -> _Built:
    data = event.data
    kind = str(data.get("kind") or "review")
    node_id = data.get("node_id") or event.node_id
    outputs, _ = _mapping_field(data.get("outputs"))
    reason: dict[str, Any] = {
        "type": PAUSE_REASONS.get(kind, kind),
        "node_id": node_id,
        "review_id": data.get("review_id"),
    }
    if kind == HUMAN_INPUT:
        reason["form_id"] = data.get("review_id")
    return "workflow_paused", {
        "workflow_run_id": event.run_id,
        "paused_nodes": [node_id] if node_id else [],
        "outputs": outputs,
        "reasons": [reason],
        "status": "paused",
        "created_at": unix_seconds(event.time),
        "elapsed_time": _float(data.get("elapsed_time")),
        "total_tokens": _int(data.get("total_tokens")),
        "total_steps": _int(data.get("total_steps")),
    }


def _node_started_fields(event: Event) -> dict[str, Any]:
    data = event.data
    inputs, inputs_truncated = _mapping_field(data.get("inputs"))
    index = data.get("index")
    return {
        "id": str(data.get("node_execution_id") or f"{event.node_id}#{event.sequence}"),
        "node_id": event.node_id,
        "node_type": data.get("node_type"),
        "title": _title(event),
        # Dify's execution order number; the log's sequence orders them the same way and stays
        # the same when a stream is replayed.
        "index": _int(index) if index is not None else event.sequence,
        "predecessor_node_id": data.get("predecessor_node_id"),
        "inputs": inputs,
        "inputs_truncated": inputs_truncated,
        "created_at": unix_seconds(data.get("created_at"), event.time),
        "extras": {},
        "iteration_id": data.get("iteration_id"),
        "loop_id": data.get("loop_id"),
    }


def _node_started(event: Event) -> _Built:
    return "node_started", _node_started_fields(event)


def _node_finished_fields(event: Event) -> dict[str, Any]:
    data = event.data
    outputs, outputs_truncated = _optional_mapping_field(data.get("outputs"))
    return {
        **_node_started_fields(event),
        "process_data": None,
        "process_data_truncated": False,
        "outputs": outputs,
        "outputs_truncated": outputs_truncated,
        "status": NODE_STATUSES[event.type],
        "error": _error_text(data.get("error")),
        "elapsed_time": _float(data.get("elapsed_time")),
        "execution_metadata": _execution_metadata(data.get("usage")),
        "finished_at": unix_seconds(data.get("finished_at"), event.time),
        "files": [],
    }


def _node_finished(event: Event) -> _Built:
    return "node_finished", _node_finished_fields(event)


def _node_retry(event: Event) -> _Built:
    attempt = _int(event.data.get("attempt")) or 1
    return "node_retry", {**_node_finished_fields(event), "retry_index": attempt - 1}


def _progress_id(event: Event) -> str:
    data = event.data
    return str(data.get("node_execution_id") or data.get("id") or f"{event.run_id}:{event.node_id}")


def _progress_started(name: str) -> Callable[[Event], _Built]:
    def build(event: Event) -> _Built:
        data = event.data
        inputs, inputs_truncated = _mapping_field(data.get("inputs"))
        metadata = data.get("metadata")
        return name, {
            "id": _progress_id(event),
            "node_id": event.node_id,
            "node_type": data.get("node_type"),
            "title": _title(event),
            "created_at": unix_seconds(data.get("created_at"), event.time),
            "inputs": inputs,
            "inputs_truncated": inputs_truncated,
            "metadata": dict(metadata) if isinstance(metadata, Mapping) else {},
            "extras": {},
        }

    return build


def _progress_next(name: str) -> Callable[[Event], _Built]:
    def build(event: Event) -> _Built:
        data = event.data
        body: dict[str, Any] = {
            "id": _progress_id(event),
            "node_id": event.node_id,
            "node_type": data.get("node_type"),
            "title": _title(event),
            "index": _int(data.get("index")),
            "created_at": unix_seconds(data.get("created_at"), event.time),
            "extras": {},
        }
        if name == "loop_next":
            previous, _ = _optional_mapping_field(data.get("pre_loop_output", data.get("outputs")))
            body["pre_loop_output"] = previous
        return name, body

    return build


def _progress_completed(name: str) -> Callable[[Event], _Built]:
    def build(event: Event) -> _Built:
        data = event.data
        inputs, inputs_truncated = _mapping_field(data.get("inputs"))
        outputs, outputs_truncated = _optional_mapping_field(data.get("outputs"))
        metadata = _execution_metadata(data.get("usage"))
        return name, {
            "id": _progress_id(event),
            "node_id": event.node_id,
            "node_type": data.get("node_type"),
            "title": _title(event),
            "outputs": outputs,
            "outputs_truncated": outputs_truncated,
            "inputs": inputs,
            "inputs_truncated": inputs_truncated,
            "created_at": unix_seconds(data.get("created_at"), event.time),
            "extras": {},
            "status": str(data.get("status") or ("failed" if data.get("error") else "succeeded")),
            "error": _error_text(data.get("error")),
            "elapsed_time": _float(data.get("elapsed_time")),
            "total_tokens": _int((data.get("usage") or {}).get("total_tokens"))
            if isinstance(data.get("usage"), Mapping)
            else _int(data.get("total_tokens")),
            "execution_metadata": metadata,
            "finished_at": unix_seconds(data.get("finished_at"), event.time),
            "steps": _int(data.get("steps", data.get("index"))),
        }

    return build


def _human_input_required(event: Event) -> _Built:
    data = event.data
    if data.get("kind") != HUMAN_INPUT:
        return None
    form = data.get("form") if isinstance(data.get("form"), Mapping) else {}
    return "human_input_required", {
        "form_id": data.get("review_id"),
        "form_token": form.get("form_token"),
        "node_id": event.node_id,
        "node_title": _title(event),
        "form_content": form.get("form_content") or "",
        "inputs": list(form.get("inputs") or []),
        "actions": list(form.get("actions") or []),
        "display_in_ui": bool(form.get("display_in_ui", True)),
        "resolved_default_values": dict(form.get("resolved_default_values") or {}),
        "expiration_time": unix_seconds(form.get("expiration_time") or data.get("expires_at")),
    }


def _human_input_form_filled(event: Event) -> _Built:
    data = event.data
    submitted, _ = _mapping_field(data.get("inputs"))
    action_id = data.get("action_id")
    return "human_input_form_filled", {
        "node_id": event.node_id,
        "node_title": _title(event),
        "rendered_content": str(data.get("rendered_content") or ""),
        "action_id": action_id,
        "action_text": str(data.get("action_text") or action_id or ""),
        "submitted_data": submitted,
    }


def _human_input_form_timeout(event: Event) -> _Built:
    data = event.data
    if data.get("kind") != HUMAN_INPUT:
        return None
    return "human_input_form_timeout", {
        "node_id": event.node_id,
        "node_title": _title(event),
        "expiration_time": unix_seconds(data.get("expiration_time") or data.get("expires_at"))
        or unix_seconds(event.time),
    }


_BUILDERS: dict[str, Callable[[Event], _Built]] = {
    "run.started": _workflow_started,
    "run.resumed": _workflow_resumed,
    "run.paused": _workflow_paused,
    **{kind: _workflow_finished for kind in WORKFLOW_STATUSES},
    "node.started": _node_started,
    "node.succeeded": _node_finished,
    "node.failed": _node_finished,
    "node.exception": _node_finished,
    "node.retrying": _node_retry,
    "iteration.started": _progress_started("iteration_started"),
    "iteration.next": _progress_next("iteration_next"),
    "iteration.completed": _progress_completed("iteration_completed"),
    "loop.started": _progress_started("loop_started"),
    "loop.next": _progress_next("loop_next"),
    "loop.completed": _progress_completed("loop_completed"),
    "review.requested": _human_input_required,
    "review.submitted": _human_input_form_filled,
    "review.timed_out": _human_input_form_timeout,
}
