"""What a node type's runtime may use besides its own fields and inputs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from signoff.nodes.code_runner import CodeRunner
from signoff.nodes.event import RunContext
from signoff.nodes.integrations import Integrations
from signoff.providers.chat import ChatModelSource


@dataclass(frozen=True)
class NodeContext:
    run: RunContext
    attempt: int
    code_runner: CodeRunner
    # The deployment's chat models (llm, question-classifier, parameter-extractor).
    chat_models: ChatModelSource | None = None
    # Outbound requests, tools, retrievers, files (http-request, tool, knowledge-retrieval,
    # document-extractor).
    integrations: Integrations = field(default_factory=Integrations)
    # A node re-run after a human review: the reviewer's feedback on its previous outputs.
    feedback: str | None = None
    previous_output: Any = None
