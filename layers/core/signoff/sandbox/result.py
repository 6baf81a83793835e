"""What a sandboxed run answers: the result main() returned, or a classified failure.

The wire form is the sandbox function's response (docs/internals.md, "Function events"):
`{"ok": true, "result": {...}}` or `{"ok": false, "error": {"type": ..., "message": ...}}`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator


class SandboxErrorType(StrEnum):
    TIMEOUT = "CodeTimeout"
    """The wall-clock limit passed (the code waited, slept or was starved)."""
    CPU_EXCEEDED = "CodeCpuExceeded"
    """The code used more CPU time than its limit."""
    MEMORY_EXCEEDED = "CodeMemoryExceeded"
    """An allocation failed under the memory limit."""
    CODE_ERROR = "CodeError"
    """The user's code raised (or its process died) before main() returned."""
    CONTRACT_ERROR = "CodeContractError"
    """The code broke the contract: no main(), main() not taking the inputs or not returning a
    JSON object, a result above the size limit, an unsupported language."""
    RUNTIME_UNAVAILABLE = "CodeRuntimeUnavailable"
    """The language's sandbox is not available (no javascript sandbox function configured)."""


class SandboxError(BaseModel):
    model_config = ConfigDict(frozen=True)

    type: SandboxErrorType
    message: str


class SandboxResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    ok: bool
    result: dict[str, Any] | None = None
    error: SandboxError | None = None

    @model_validator(mode="after")
    def _one_outcome(self) -> SandboxResult:
        if self.ok and (self.result is None or self.error is not None):
            raise ValueError("a successful run has a result and no error")
        if not self.ok and (self.error is None or self.result is not None):
            raise ValueError("a failed run has an error and no result")
        return self

    @classmethod
    def success(cls, result: dict[str, Any]) -> SandboxResult:
        return cls(ok=True, result=result)

    @classmethod
    def failure(cls, error_type: SandboxErrorType, message: str) -> SandboxResult:
        return cls(ok=False, error=SandboxError(type=error_type, message=message))

    def to_response(self) -> dict[str, Any]:
        if self.ok:
            return {"ok": True, "result": self.result}
        assert self.error is not None
        return {
            "ok": False,
            "error": {"type": self.error.type.value, "message": self.error.message},
        }
