"""Small workflow documents the unit, integration and end-to-end tests share.

Each call returns a fresh document, so a test may change its copy freely.
"""

from __future__ import annotations

import copy
from typing import Any

_GREETER: dict[str, Any] = {
    "id": "greeter",
    "name": "greeter",
    "description": "Says hello.",
    "inputs": [
        {"variable": "name", "type": "string", "required": True},
        {"variable": "times", "type": "number", "required": False, "default": 1},
    ],
    "nodes": [
        {"id": "start", "type": "start"},
        {
            "id": "greet",
            "type": "template-transform",
            "template": "Hello, {{ name }}!",
            "variables": [{"variable": "name", "value_selector": ["start", "name"]}],
        },
        {
            "id": "end",
            "type": "end",
            "outputs": [{"variable": "greeting", "value_selector": ["greet", "output"]}],
        },
    ],
    "edges": [{"source": "start", "target": "greet"}, {"source": "greet", "target": "end"}],
}

_RAISING: dict[str, Any] = {
    "id": "raising",
    "name": "raising",
    "inputs": [{"variable": "n", "type": "number", "required": True}],
    "nodes": [
        {"id": "start", "type": "start"},
        {
            "id": "explode",
            "type": "code",
            "code_language": "python3",
            "code": "def main(n):\n    raise ValueError(f'cannot handle {n}')\n",
            "variables": [{"variable": "n", "value_selector": ["start", "n"]}],
            "outputs": {"result": {"type": "number"}},
        },
        {
            "id": "end",
            "type": "end",
            "outputs": [{"variable": "result", "value_selector": ["explode", "result"]}],
        },
    ],
    "edges": [{"source": "start", "target": "explode"}, {"source": "explode", "target": "end"}],
}


def greeter(**changes: Any) -> dict[str, Any]:
    """start -> greet (template "Hello, {{ name }}!") -> end (greeting)."""
    return {**copy.deepcopy(_GREETER), **changes}


def raising(**changes: Any) -> dict[str, Any]:
    """start -> explode (a code node raising ValueError("cannot handle <n>")) -> end."""
    return {**copy.deepcopy(_RAISING), **changes}
