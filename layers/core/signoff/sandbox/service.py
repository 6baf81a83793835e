"""The sandbox function's one use case: run a python3 code node's source.

javascript has its own function (functions/sandbox_js, Node.js) with the same event and answer.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from signoff.sandbox.limits import SandboxLimits
from signoff.sandbox.python_runner import run_python
from signoff.sandbox.result import SandboxErrorType, SandboxResult

SUPPORTED_LANGUAGES = ("python3",)


class SandboxRequest(BaseModel):
    """The sandbox function's event: `{"language", "code", "inputs"}`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    language: str
    code: str
    inputs: dict[str, Any] = Field(default_factory=dict)


def run_code(request: SandboxRequest, limits: SandboxLimits) -> SandboxResult:
    """Run the request's code in a limited child process."""
    if request.language == "python3":
        return run_python(request.code, request.inputs, limits)
    supported = ", ".join(SUPPORTED_LANGUAGES)
    return SandboxResult.failure(
        SandboxErrorType.CONTRACT_ERROR,
        f"code language {request.language!r} is not supported (supported: {supported})",
    )
