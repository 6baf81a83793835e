"""Runs a python3 code node's source in a child process under limits, and classifies the outcome.

What is enforced, by whom:
- the child interpreter starts isolated (`-I -S`: no user or site packages, PYTHON* variables
  ignored) with an empty environment, so the parent's variables (AWS credentials, settings) are
  not in its os.environ;
- this parent makes itself non-dumpable (prctl PR_SET_DUMPABLE 0) before its first child: a
  process of the same user without privileges can then not read its /proc entries (environ,
  memory), which would otherwise hold the credentials the child's empty environment hides;
- its working directory is a fresh temporary directory, removed afterwards;
- the child confines itself before the code runs (_child.confine), each layer where the kernel
  allows it: new user and network namespaces (no network; no capability over the host even when
  started as root), Landlock (writes only beneath its working directory; reads only beneath the
  Python installation and /usr, /lib, /bin: no /proc, /etc, /home or /root), and a seccomp filter
  (no socket but AF_UNIX, so neither the AWS endpoint nor the instance metadata address is
  reachable; no io_uring; no new process or thread);
- it sets its own rlimits: CPU seconds, address space, file size, open files, no core files, no
  new processes (RLIMIT_NPROC, which the kernel does not enforce for root: seccomp does);
- this parent enforces the wall clock (the whole process group is killed), caps the result size
  and tells a timeout, CPU exhaustion, memory exhaustion, an exception and a broken contract apart.

Where the kernel refuses those layers (AWS Lambda is reported to refuse prctl calls such as
PR_SET_NO_NEW_PRIVS, which Landlock and seccomp need, and user namespaces; not verifiable here),
what holds is: the empty environment, the non-dumpable parent
where prctl is allowed, Lambda's read-only file system outside /tmp, and the sandbox function's
role, which grants no AWS action, so credentials found there are worth nothing. Network isolation
there needs the sandbox function in a VPC without egress (see the README's security section).
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from signoff.sandbox.limits import SandboxLimits
from signoff.sandbox.result import SandboxErrorType, SandboxResult

_CHILD_SCRIPT = Path(__file__).with_name("_child.py")
_STDERR_TAIL_BYTES = 2000


@dataclass(frozen=True)
class _Exit:
    returncode: int
    """As subprocess reports it: the exit status, or minus the signal that killed the process."""
    cpu_seconds: float
    timed_out: bool


def run_python(code: str, inputs: Mapping[str, Any], limits: SandboxLimits) -> SandboxResult:
    """Run `code`'s main(**inputs) in a limited child process; the code's faults never raise."""
    protect_parent()
    with tempfile.TemporaryDirectory(prefix="signoff-sandbox-") as scratch:
        root = Path(scratch)
        workdir = root / "work"
        workdir.mkdir()
        request = root / "request.json"
        request.write_text(
            json.dumps(
                {"code": code, "inputs": dict(inputs), "max_output_bytes": limits.max_output_bytes}
            )
        )
        result_path, stderr_path = root / "result.json", root / "stderr.txt"
        with (
            request.open("rb") as stdin,
            result_path.open("wb") as stdout,
            stderr_path.open("wb") as stderr,
        ):
            process = subprocess.Popen(
                [sys.executable, "-I", "-S", str(_CHILD_SCRIPT), json.dumps(_child_limits(limits))],
                stdin=stdin,
                stdout=stdout,
                stderr=stderr,
                cwd=workdir,
                env={},
                close_fds=True,
                start_new_session=True,
            )
            exit_ = _wait(process, limits.wall_seconds)
        return _classify(exit_, result_path, stderr_path, limits)


_PR_SET_DUMPABLE = 4
_PR_GET_DUMPABLE = 3


def protect_parent() -> bool:
    """Make this process non-dumpable (its /proc entries unreadable to an unprivileged process of
    the same user); True when it is. Harmless to call again."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_GET_DUMPABLE, 0, 0, 0, 0) == 0:
            return True
        return libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _child_limits(limits: SandboxLimits) -> dict[str, int]:
    return {
        "cpu_seconds": limits.cpu_seconds,
        "memory_bytes": limits.memory_bytes,
        "file_bytes": limits.file_bytes,
        "open_files": limits.open_files,
    }


def _wait(process: subprocess.Popen[bytes], wall_seconds: float) -> _Exit:
    """Wait for the child at most `wall_seconds`, then kill its process group.

    os.wait4 (rather than Popen.wait) also gives the child's CPU time, which tells a CPU limit
    kill from any other SIGKILL.
    """
    reaped: dict[str, Any] = {}

    def reap() -> None:
        _, status, usage = os.wait4(process.pid, 0)
        reaped["status"] = status
        reaped["cpu"] = usage.ru_utime + usage.ru_stime

    waiter = threading.Thread(target=reap, name=f"sandbox-wait-{process.pid}", daemon=True)
    waiter.start()
    waiter.join(wall_seconds)
    timed_out = waiter.is_alive()
    if timed_out:
        _kill_group(process.pid)
        waiter.join()
    else:
        # Whatever the code left running in its group (possible only where RLIMIT_NPROC is not
        # enforced) goes with it.
        _kill_group(process.pid)
    returncode = os.waitstatus_to_exitcode(reaped["status"])
    process.returncode = returncode  # reaped here: Popen must not wait for it again
    return _Exit(returncode=returncode, cpu_seconds=reaped["cpu"], timed_out=timed_out)


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _classify(
    exit_: _Exit, result_path: Path, stderr_path: Path, limits: SandboxLimits
) -> SandboxResult:
    if exit_.timed_out:
        return SandboxResult.failure(
            SandboxErrorType.TIMEOUT,
            f"the code did not finish within {limits.wall_seconds:g} s (wall clock)",
        )
    killed_by = -exit_.returncode if exit_.returncode < 0 else None
    if killed_by == signal.SIGXCPU or (
        killed_by == signal.SIGKILL and exit_.cpu_seconds >= limits.cpu_seconds
    ):
        return SandboxResult.failure(
            SandboxErrorType.CPU_EXCEEDED,
            f"the code used more than its {limits.cpu_seconds} s of CPU time",
        )

    reported = _read_result(result_path, limits)
    if reported is not None:
        return reported

    stderr_tail = _tail(stderr_path)
    if "MemoryError" in stderr_tail:
        return SandboxResult.failure(
            SandboxErrorType.MEMORY_EXCEEDED, "the code ran out of memory (MemoryError)"
        )
    if killed_by is not None:
        how = f"was killed by {signal.Signals(killed_by).name}"
    else:
        how = f"exited with status {exit_.returncode}"
    message = f"the code's process {how} before main() returned"
    if stderr_tail:
        message += f"; its last output:\n{stderr_tail}"
    return SandboxResult.failure(SandboxErrorType.CODE_ERROR, message)


def _read_result(result_path: Path, limits: SandboxLimits) -> SandboxResult | None:
    """The outcome the child wrote, or None when it wrote none (or nothing readable)."""
    size = result_path.stat().st_size
    if size == 0:
        return None
    if size > limits.max_output_bytes:
        return SandboxResult.failure(
            SandboxErrorType.CONTRACT_ERROR,
            f"the result is larger than the limit of {limits.max_output_bytes} bytes",
        )
    try:
        return SandboxResult.model_validate_json(result_path.read_bytes())
    except ValidationError:
        return None


def _tail(path: Path) -> str:
    with path.open("rb") as stream:
        stream.seek(max(0, path.stat().st_size - _STDERR_TAIL_BYTES))
        return stream.read().decode("utf-8", errors="replace").strip()
