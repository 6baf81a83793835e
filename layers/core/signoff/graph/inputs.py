"""Run inputs checked and coerced against a workflow's declared `inputs` (Dify's rules)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from signoff.errors import InvalidInput
from signoff.graph.model import InputVariable, Workflow

_TEXT_TYPES = ("string", "paragraph", "select")


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value == "")


def coerce_input(variable: InputVariable, value: Any) -> Any:
    """The value this input takes for `value`; InvalidInput when it does not fit the type."""
    field = f"inputs.{variable.variable}"
    name = variable.variable
    kind = variable.type
    if kind in _TEXT_TYPES:
        if not isinstance(value, str):
            raise InvalidInput(f"input {name} must be a string", field=field)
        if variable.max_length is not None and len(value) > variable.max_length:
            raise InvalidInput(
                f"input {name} is longer than {variable.max_length} characters", field=field
            )
        if kind == "select" and value not in variable.options:
            choices = ", ".join(repr(option) for option in variable.options)
            raise InvalidInput(f"input {name} must be one of {choices}", field=field)
        return value
    if kind == "number":
        return _as_number(value, name, field)
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        raise InvalidInput(f"input {name} must be a boolean", field=field)
    if kind == "object":
        if not isinstance(value, Mapping):
            raise InvalidInput(f"input {name} must be an object", field=field)
        return dict(value)
    if kind == "array":
        if not isinstance(value, list):
            raise InvalidInput(f"input {name} must be an array", field=field)
        return value
    raise InvalidInput(f"input {name} has an unsupported type {kind!r}", field=field)


def _as_number(value: Any, name: str, field: str) -> int | float:
    # Form posts send numbers as text, so numeric strings are accepted, as Dify does.
    number: int | float
    if isinstance(value, bool):
        raise InvalidInput(f"input {name} must be a number", field=field)
    if isinstance(value, int | float):
        number = value
    elif isinstance(value, str):
        text = value.strip()
        try:
            number = int(text)
        except ValueError:
            try:
                number = float(text)
            except ValueError:
                raise InvalidInput(f"input {name} must be a number", field=field) from None
    else:
        raise InvalidInput(f"input {name} must be a number", field=field)
    if isinstance(number, float) and not math.isfinite(number):
        raise InvalidInput(f"input {name} must be a finite number", field=field)
    return number


def validate_inputs(workflow: Workflow, inputs: Mapping[str, Any] | None) -> dict[str, Any]:
    """The run's inputs, checked and coerced: every declared input present (its default, else
    null, when optional and missing); unknown inputs are rejected."""
    given = dict(inputs or {})
    declared = {variable.variable for variable in workflow.inputs}
    unknown = sorted(name for name in given if name not in declared)
    if unknown:
        names = ", ".join(unknown)
        raise InvalidInput(
            f"unknown input{'s' if len(unknown) > 1 else ''}: {names}",
            field=f"inputs.{unknown[0]}",
        )
    values: dict[str, Any] = {}
    for variable in workflow.inputs:
        value = given.get(variable.variable)
        if _is_missing(value):
            if variable.required:
                raise InvalidInput(
                    f"input {variable.variable} is required", field=f"inputs.{variable.variable}"
                )
            value = variable.default
            if _is_missing(value):
                values[variable.variable] = value
                continue
        values[variable.variable] = coerce_input(variable, value)
    return values
