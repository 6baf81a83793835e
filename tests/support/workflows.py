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


def forms_per_item(**form_changes: Any) -> dict[str, Any]:
    """start(names) -> each (an iteration over the names, its output each item's action) whose
    body is one human-input form `ask` (a single action `ok`) -> end. `form_changes` set fields
    of the form (form_content, timeout_seconds, ...)."""
    form = {"id": "ask", "type": "human-input", "parent_id": "each", "user_actions": [{"id": "ok"}]}
    return {
        "name": "forms per item",
        "inputs": [{"variable": "names", "type": "array"}],
        "nodes": [
            {"id": "start", "type": "start"},
            {
                "id": "each",
                "type": "iteration",
                "iterator_selector": ["start", "names"],
                "output_selector": ["ask", "__action_id"],
                "start_node_id": "each_start",
            },
            {"id": "each_start", "type": "iteration-start", "parent_id": "each"},
            {**form, **form_changes},
            {"id": "end", "type": "end"},
        ],
        "edges": [
            {"source": "start", "target": "each"},
            {"source": "each_start", "target": "ask"},
            {"source": "each", "target": "end"},
        ],
    }


def fragile(tag: str | None = None) -> dict[str, Any]:
    """start(topic, n) -> prepare -> divide (fails when n is 0) -> end(text). With a `tag`, every
    text the nodes write carries it, so an output tells which version of the workflow ran."""
    mark, label = (f"{tag} ", f"{tag}: ") if tag else ("", "")
    return {
        "name": f"fragile {tag}" if tag else "fragile",
        "inputs": [
            {"variable": "topic", "type": "string", "required": True},
            {"variable": "n", "type": "number", "required": True},
        ],
        "nodes": [
            {"id": "start", "type": "start"},
            {
                "id": "prepare",
                "type": "template-transform",
                "template": f"{mark}about {{{{ topic }}}}",
                "variables": [{"variable": "topic", "value_selector": ["start", "topic"]}],
            },
            {
                "id": "divide",
                "type": "template-transform",
                "template": f"{{{{ 10 // n }}}} {label}{{{{ text }}}}",
                "variables": [
                    {"variable": "n", "value_selector": ["start", "n"]},
                    {"variable": "text", "value_selector": ["prepare", "output"]},
                ],
            },
            {
                "id": "end",
                "type": "end",
                "outputs": [{"variable": "text", "value_selector": ["divide", "output"]}],
            },
        ],
        "edges": [
            {"source": "start", "target": "prepare"},
            {"source": "prepare", "target": "divide"},
            {"source": "divide", "target": "end"},
        ],
    }


def greetings_per_item(*, parallel: bool = False) -> dict[str, Any]:
    """start(names) -> each (an iteration over the names: greet "hi <name>" -> shout, upper-cased
    with "!") -> end(shouts). `parallel` runs the items at once, three at most."""
    each: dict[str, Any] = {
        "id": "each",
        "type": "iteration",
        "iterator_selector": ["start", "names"],
        "output_selector": ["shout", "output"],
        "start_node_id": "each_start",
    }
    if parallel:
        each.update(is_parallel=True, parallel_nums=3)
    return {
        "name": "greetings",
        "inputs": [{"variable": "names", "type": "array", "required": True}],
        "nodes": [
            {"id": "start", "type": "start"},
            each,
            {"id": "each_start", "type": "iteration-start", "parent_id": "each"},
            {
                "id": "greet",
                "type": "template-transform",
                "parent_id": "each",
                "template": "hi {{ name }}",
                "variables": [{"variable": "name", "value_selector": ["each", "item"]}],
            },
            {
                "id": "shout",
                "type": "template-transform",
                "parent_id": "each",
                "template": "{{ text | upper }}!",
                "variables": [{"variable": "text", "value_selector": ["greet", "output"]}],
            },
            {
                "id": "end",
                "type": "end",
                "outputs": [{"variable": "shouts", "value_selector": ["each", "output"]}],
            },
        ],
        "edges": [
            {"source": "start", "target": "each"},
            {"source": "each_start", "target": "greet"},
            {"source": "greet", "target": "shout"},
            {"source": "each", "target": "end"},
        ],
    }
