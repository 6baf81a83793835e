"""The limits one sandboxed run gets (the deployment sets them through Settings)."""

from __future__ import annotations

from dataclasses import dataclass

# Files the code writes (and what it prints) may each be this much larger than the result cap:
# the result envelope and the printed output must fit beside a result of the largest size.
_FILE_SLACK_BYTES = 64 * 1024


@dataclass(frozen=True)
class SandboxLimits:
    cpu_seconds: int = 5
    memory_mb: int = 256
    wall_seconds: float = 10.0
    max_output_bytes: int = 1_000_000
    open_files: int = 64

    def __post_init__(self) -> None:
        if self.cpu_seconds < 1 or self.memory_mb < 16 or self.wall_seconds <= 0:
            raise ValueError(f"sandbox limits out of range: {self}")
        if self.max_output_bytes < 1 or self.open_files < 8:
            raise ValueError(f"sandbox limits out of range: {self}")

    @property
    def memory_bytes(self) -> int:
        return self.memory_mb * 1024 * 1024

    @property
    def file_bytes(self) -> int:
        return self.max_output_bytes + _FILE_SLACK_BYTES
