"""A workflow as a native document (YAML or JSON data), compact: settings left at their
defaults are left out, so loading it back gives the same workflow."""

from __future__ import annotations

from typing import Any

import yaml

from signoff.graph.model import Workflow


def native_document(workflow: Workflow) -> dict[str, Any]:
    document = workflow.model_dump(mode="json", exclude_defaults=True)
    # A node's type is its Literal's default: it must stay, it says what the node is.
    for node, dumped in zip(workflow.nodes, document.get("nodes", []), strict=True):
        dumped.pop("type", None)
        dumped_node = {"id": dumped.pop("id", node.id), "type": node.type, **dumped}
        dumped.clear()
        dumped.update(dumped_node)
    return document


def native_yaml(workflow: Workflow) -> str:
    """The native YAML text of a workflow (`signoff validate` and POST /workflows read it)."""
    return yaml.safe_dump(native_document(workflow), sort_keys=False, allow_unicode=True, width=100)
