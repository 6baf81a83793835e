"""What a node type's runtime may use besides its own fields and inputs."""

from __future__ import annotations

from dataclasses import dataclass

from signoff.nodes.code_runner import CodeRunner
from signoff.nodes.event import RunContext


@dataclass(frozen=True)
class NodeContext:
    run: RunContext
    attempt: int
    code_runner: CodeRunner
