"""Where a compiled state machine sends its work: the functions its Tasks invoke."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CompileTarget:
    node_function_arn: str
    settle_function_arn: str
    # The review function a wait on a person invokes (a node's review, a step-mode pause).
    review_function_arn: str | None = None

    @classmethod
    def placeholders(cls) -> CompileTarget:
        """Definition substitutions (`${...}`) for templates and checked-in example definitions."""
        return cls("${NodeFunctionArn}", "${SettleFunctionArn}", "${ReviewFunctionArn}")
