"""What a deployment must provide for a workflow to run: model providers and models, tools,
knowledge bases, the hosts its http-request nodes call, plugins and secrets."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from signoff.graph.model import (
    HttpRequestNode,
    KnowledgeRetrievalNode,
    ModelConfig,
    ToolNode,
    Workflow,
)
from signoff.graph.selectors import find_references

DEPENDENCY_KINDS = ("models", "tools", "knowledge_bases", "http_hosts", "plugins", "secrets")


def workflow_dependencies(
    workflow: Workflow, *, plugins: Iterable[str] = ()
) -> dict[str, list[str]]:
    """Each kind of dependency -> its sorted, distinct names. Models are `provider/model`;
    tools `provider_id/tool_name` (as SIGNOFF_TOOLS registers them); an http host written with a
    `{{#...#}}` reference is given as the URL text, as only a run knows it."""
    found: dict[str, set[str]] = {kind: set() for kind in DEPENDENCY_KINDS}
    for node in workflow.nodes:
        for model in _models(node):
            found["models"].add(f"{model.provider}/{model.name}")
        if isinstance(node, ToolNode):
            found["tools"].add(node.registry_key)
        if isinstance(node, KnowledgeRetrievalNode):
            found["knowledge_bases"].update(node.dataset_ids)
        if isinstance(node, HttpRequestNode):
            found["http_hosts"].add(_host(node.url))
    found["plugins"].update(plugins)
    found["secrets"].update(
        variable.name
        for variable in workflow.environment_variables
        if variable.value_type == "secret"
    )
    return {kind: sorted(names) for kind, names in found.items()}


def _models(node: Any) -> list[ModelConfig]:
    models = [getattr(node, "model", None)]
    if isinstance(node, KnowledgeRetrievalNode):
        if node.single_retrieval_config is not None:
            models.append(node.single_retrieval_config.model)
        models.append(node.metadata_model_config)
    return [model for model in models if isinstance(model, ModelConfig)]


def _host(url: str) -> str:
    if find_references(url.split("/", 3)[2] if url.count("/") >= 2 else url):
        return url  # the host itself comes from a variable
    parts = urlsplit(url)
    if not parts.hostname:
        return url
    return parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
