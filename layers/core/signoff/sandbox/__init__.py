"""Runs code-node source in a limited child process (the sandbox function's library).

The same code path runs in Lambda, in the local cloud and in the tests: a child interpreter in
isolated mode, with no environment, a fresh temporary working directory and resource limits it
sets on itself before the user's code runs. See python_runner for what is and is not enforced.
"""

from signoff.sandbox.limits import SandboxLimits
from signoff.sandbox.python_runner import run_python
from signoff.sandbox.result import SandboxError, SandboxErrorType, SandboxResult
from signoff.sandbox.service import SandboxRequest, run_code

__all__ = [
    "SandboxError",
    "SandboxErrorType",
    "SandboxLimits",
    "SandboxRequest",
    "SandboxResult",
    "run_code",
    "run_python",
]
