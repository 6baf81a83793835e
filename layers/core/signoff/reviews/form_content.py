"""A human-input form's content: rendered when its wait begins, checked when it is submitted.

The wait hands the review function the node's form (`HumanInputNode.form()`) and the variables
its text and defaults name. `render_form` resolves them once, so the person sees what the run had
at that moment: `form_content` with every `{{#node.var#}}` replaced, and each field's default as
text (`resolved_default_values`, Dify's shape). The rendered form is what the review keeps in its
`settings`. `check_submission` holds a submission against it and answers the values the node
outputs: every field of the form, a missing one taking its default.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from signoff.errors import InvalidInput
from signoff.graph.selectors import as_text, render_references, resolve_selector
from signoff.store.reviews import ReviewKind, ReviewRecord

# Field types whose value is text.
_TEXT_TYPES = frozenset({"paragraph", "text_input"})
# The longest text a field takes (a DynamoDB item holds 400 KB, with the rest of the review).
MAX_TEXT_LENGTH = 100_000


def new_form_token() -> str:
    """A form's capability: 32 random bytes, URL-safe. It is never the task token."""
    return secrets.token_urlsafe(32)


def render_form(
    form: Mapping[str, Any], variables: Mapping[str, Any], run: Mapping[str, Any]
) -> dict[str, Any]:
    """The form as a person sees it, from the node's form and the run's variables now."""

    def resolve(selector: list[str]) -> Any:
        return resolve_selector(selector, variables, run)

    fields = [_field(entry) for entry in form.get("inputs") or [] if isinstance(entry, Mapping)]
    defaults: dict[str, str] = {}
    for field in fields:
        default = field["default"]
        value = resolve(default["selector"]) if default["type"] == "variable" else default["value"]
        defaults[field["output_variable_name"]] = as_text(value)
    return {
        "form_content": render_references(str(form.get("form_content") or ""), resolve),
        "inputs": fields,
        "user_actions": [
            {
                "id": str(action.get("id")),
                "title": str(action.get("title") or action.get("id")),
                "button_style": str(action.get("button_style") or "default"),
            }
            for action in form.get("user_actions") or []
            if isinstance(action, Mapping) and action.get("id") is not None
        ],
        "resolved_default_values": defaults,
        "timeout_seconds": form.get("timeout_seconds"),
    }


def _field(entry: Mapping[str, Any]) -> dict[str, Any]:
    """A field in Dify's shape: {type, output_variable_name, default {type, selector, value}},
    with the native extras (label, required, options, file limits) when set."""
    default = entry.get("default") if isinstance(entry.get("default"), Mapping) else {}
    field: dict[str, Any] = {
        "type": str(entry.get("type") or "paragraph"),
        "output_variable_name": str(entry.get("output_variable_name") or entry.get("variable")),
        "default": {
            "type": "variable" if default.get("type") == "variable" else "constant",
            "selector": list(default.get("selector") or []),
            "value": default.get("value", ""),
        },
        "required": bool(entry.get("required", False)),
    }
    for name in (
        "label",
        "options",
        "allowed_file_types",
        "allowed_file_extensions",
        "allowed_file_upload_methods",
        "number_limits",
    ):
        if entry.get(name) not in (None, []):
            field[name] = entry[name]
    return field


def check_submission(
    form: Mapping[str, Any], action_id: str | None, inputs: Mapping[str, Any]
) -> dict[str, Any]:
    """The values a submission gives the node (every field of the form), or InvalidInput naming
    the first problem: an unknown action, an unknown field, a required field left empty, a
    value of the wrong kind, a select value outside its options."""
    actions = [
        str(action.get("id"))
        for action in form.get("user_actions") or []
        if isinstance(action, Mapping) and action.get("id") is not None
    ]
    if actions and action_id not in actions:
        raise InvalidInput(
            f"action_id must be one of {', '.join(actions)}, not {action_id!r}", field="action_id"
        )
    if not actions and not action_id:
        raise InvalidInput("action_id names the button pressed", field="action_id")
    fields = [_field(entry) for entry in form.get("inputs") or [] if isinstance(entry, Mapping)]
    known = {field["output_variable_name"] for field in fields}
    unknown = sorted(set(inputs) - known)
    if unknown:
        raise InvalidInput(f"the form has no field {unknown[0]}", field=f"inputs.{unknown[0]}")
    defaults = form.get("resolved_default_values") or {}
    values: dict[str, Any] = {}
    for field in fields:
        name = field["output_variable_name"]
        value = inputs[name] if name in inputs else defaults.get(name)
        if field["required"] and value in (None, "", []):
            raise InvalidInput(f"{name} is required", field=f"inputs.{name}")
        if value not in (None, ""):
            _check_value(field, value)
        values[name] = value
    return values


def _check_value(field: Mapping[str, Any], value: Any) -> None:
    name, kind = field["output_variable_name"], field["type"]
    where = f"inputs.{name}"
    if kind in _TEXT_TYPES or kind == "select":
        if not isinstance(value, str):
            raise InvalidInput(f"{name} is text", field=where)
        if len(value) > MAX_TEXT_LENGTH:
            raise InvalidInput(f"{name} is at most {MAX_TEXT_LENGTH} characters", field=where)
        options = field.get("options") or []
        if kind == "select" and value not in options:
            raise InvalidInput(
                f"{name} must be one of the form's options ({', '.join(map(str, options))})",
                field=where,
            )
    elif kind == "file":
        if not isinstance(value, Mapping):
            raise InvalidInput(f"{name} is a file object", field=where)
    elif kind == "file-list":
        if not isinstance(value, list) or not all(isinstance(item, Mapping) for item in value):
            raise InvalidInput(f"{name} is a list of file objects", field=where)
        limit = field.get("number_limits")
        if isinstance(limit, int) and len(value) > limit:
            raise InvalidInput(f"{name} takes at most {limit} files", field=where)


def requested_form(review: ReviewRecord) -> dict[str, Any] | None:
    """review.requested's `form` for a human-input review (None for other kinds): what a client
    needs to show the form and submit it by its token. Times are ISO 8601, as in every event."""
    if review.kind is not ReviewKind.HUMAN_INPUT:
        return None
    settings = review.settings or {}
    return {
        "form_id": review.review_id,
        "form_token": review.form_token,
        "node_title": review.node_title,
        "form_content": settings.get("form_content", ""),
        "inputs": settings.get("inputs", []),
        "actions": settings.get("user_actions", []),
        "resolved_default_values": settings.get("resolved_default_values", {}),
        "expiration_time": review.expires_at,
    }
