"""Importing a Dify DSL document: the conversion, then the native graph's own validation."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from signoff.dify.convert import convert_dsl, is_dify_dsl
from signoff.errors import GraphInvalid, Issue
from signoff.graph import parse_workflow
from signoff.graph.model import Workflow


def import_dsl(document: Any, *, tools: Collection[str] | None = None) -> Workflow:
    """The native workflow of a Dify DSL export; GraphInvalid listing every issue (the import's
    unsupported features, then the graph's own issues) when it has any.

    `tools`: the deployment's registered tool names (None: an unknown tool is not an issue)."""
    return import_document(document, tools=tools)[0]


def import_document(
    document: Any, *, tools: Collection[str] | None = None
) -> tuple[Workflow, list[str]]:
    """The workflow of a Dify DSL export and the plugins the DSL declares it depends on."""
    conversion = convert_dsl(document)
    issues: list[Issue] = list(conversion.issues)
    workflow: Workflow | None = None
    try:
        workflow = parse_workflow(conversion.document, tools=tools)
    except GraphInvalid as invalid:
        issues += [found for found in invalid.issues if found not in issues]
    if issues or workflow is None:
        raise GraphInvalid(issues)
    return workflow, conversion.plugins


def load_any(document: Any, *, tools: Collection[str] | None = None) -> Workflow:
    """The workflow of a document in either format: a Dify DSL export or a native workflow."""
    if is_dify_dsl(document):
        return import_dsl(document, tools=tools)
    return parse_workflow(document, tools=tools)
