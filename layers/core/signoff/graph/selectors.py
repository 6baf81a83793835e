"""Variable selectors (`[node_id, variable, ...]`) and `{{#node_id.variable#}}` text references.

One place knows their syntax: validation checks them, the compiler turns them into JSONata, and
the node runtime resolves them against the variables its Task hands it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

SYS = "sys"
# sys.<name> -> the key of the run context (the execution input's `run`) holding it.
SYS_VARIABLES: dict[str, str] = {"user": "user", "run_id": "run_id", "workflow_id": "workflow_id"}
# `env.<name>` and `conversation.<name>`: the workflow's environment and conversation variables,
# held by the run context under these keys (`run.env`, `run.conversation`).
ENV = "env"
CONVERSATION = "conversation"
RUN_SCOPES = (SYS, ENV, CONVERSATION)
# What `$run.env.<name>` holds for a secret environment variable: its name, never its value
# (compiler/lowering/start.py writes it, the node function resolves it: nodes/secrets.py).
SECRET_MARKER = "$signoff_secret"


def secret_placeholder(name: str) -> dict[str, str]:
    return {SECRET_MARKER: name}


# Loose on purpose: anything between `{{#` and `#}}` is a reference; a malformed one is reported
# by validation instead of silently staying literal text.
_REFERENCE = re.compile(r"\{\{#(.*?)#\}\}", re.DOTALL)


@dataclass(frozen=True)
class Reference:
    """One `{{#...#}}` occurrence in a text: its raw text, span, and the selector it spells."""

    text: str
    start: int
    end: int

    @property
    def selector(self) -> list[str]:
        return self.text[3:-3].split(".")

    @property
    def is_well_formed(self) -> bool:
        parts = self.selector
        return len(parts) >= 2 and all(part and part.strip() == part for part in parts)


def find_references(text: str) -> list[Reference]:
    return [Reference(m.group(0), m.start(), m.end()) for m in _REFERENCE.finditer(text)]


def split_references(text: str) -> list[str | Reference]:
    """The text as literal pieces and references, in order (empty literal pieces left out)."""
    pieces: list[str | Reference] = []
    position = 0
    for reference in find_references(text):
        if reference.start > position:
            pieces.append(text[position : reference.start])
        pieces.append(reference)
        position = reference.end
    if position < len(text):
        pieces.append(text[position:])
    return pieces


def is_sys(selector: list[str]) -> bool:
    return bool(selector) and selector[0] == SYS


def is_run_variable(selector: list[str]) -> bool:
    """Whether a selector names a variable of the run (sys, env, conversation), not a node's."""
    return bool(selector) and selector[0] in RUN_SCOPES


def referenced_node_ids(selectors: Iterable[list[str]], texts: Iterable[str] = ()) -> list[str]:
    """The node ids named by these selectors and text references, first mention first (run
    variables left out)."""
    named: list[list[str]] = list(selectors)
    named += [ref.selector for text in texts for ref in find_references(text) if ref.is_well_formed]
    ids: dict[str, None] = {}
    for selector in named:
        if selector and not is_run_variable(selector):
            ids.setdefault(selector[0], None)
    return list(ids)


def resolve_selector(
    selector: list[str], variables: Mapping[str, Any], run: Mapping[str, Any]
) -> Any:
    """The value a selector names: from `variables` (node id -> outputs) or, for sys, env and
    conversation, from `run`.

    A skipped node (outputs null) or a missing attribute resolves to None, as in Dify.
    """
    if is_sys(selector):
        key = SYS_VARIABLES.get(selector[1]) if len(selector) == 2 else None
        return run.get(key) if key else None
    if selector and selector[0] in (ENV, CONVERSATION):
        value: Any = run.get(selector[0])
    else:
        value = variables.get(selector[0])
    for key in selector[1:]:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def as_text(value: Any) -> str:
    """How a value reads inside text: None is empty, objects and arrays are JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def render_references(text: str, resolve: Callable[[list[str]], Any]) -> str:
    """The text with every well-formed reference replaced by its value (see `as_text`)."""
    return "".join(
        piece
        if isinstance(piece, str)
        else as_text(resolve(piece.selector))
        if piece.is_well_formed
        else piece.text
        for piece in split_references(text)
    )
