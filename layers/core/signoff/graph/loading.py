"""Workflow documents from text or files (YAML, or JSON, which YAML readers also take)."""

from __future__ import annotations

import json
from collections.abc import Collection
from pathlib import Path
from typing import Any

import yaml

from signoff.errors import GraphInvalid, Issue
from signoff.graph.issues import IssueCode, issue
from signoff.graph.model import Workflow
from signoff.graph.parsing import parse_document
from signoff.graph.validation import validate_graph


def parse_workflow(document: Any, *, tools: Collection[str] | None = None) -> Workflow:
    """The workflow a document describes; GraphInvalid listing every issue when it has any.

    `tools`: the deployment's registered tool names, checked as validate_workflow checks them
    (None: unchecked)."""
    parsed = parse_document(document)
    issues: list[Issue] = parsed.issues
    if not any(found.code == IssueCode.UNREADABLE_DOCUMENT for found in issues):
        issues = issues + validate_graph(parsed.workflow, parsed.slots, tools=tools)
    if issues:
        raise GraphInvalid(issues)
    return Workflow.model_validate(parsed.workflow.model_dump(mode="json", by_alias=False))


def read_document(text: str, *, source: str = "document", as_json: bool | None = None) -> Any:
    """The data of a YAML or JSON text; GraphInvalid (unreadable_document) when it is neither."""
    if as_json is None:
        as_json = text.lstrip().startswith(("{", "["))
    try:
        return json.loads(text) if as_json else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as error:
        kind = "JSON" if as_json else "YAML"
        raise GraphInvalid([_unreadable(f"{source} is not valid {kind}: {error}")]) from None


def load_workflow_file(path: str | Path) -> Workflow:
    """The workflow in a .yaml/.yml/.json file (by extension, else by content)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise GraphInvalid([_unreadable(f"cannot read {path}: {error}")]) from None
    suffix = path.suffix.lower()
    as_json = True if suffix == ".json" else False if suffix in (".yaml", ".yml") else None
    return parse_workflow(read_document(text, source=str(path), as_json=as_json))


def _unreadable(message: str) -> Issue:
    return issue(IssueCode.UNREADABLE_DOCUMENT, message)
