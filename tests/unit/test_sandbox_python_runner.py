"""The python sandbox: a child process under limits, its outcome classified.

Limits are small (1 s of CPU, 2 s of wall clock) so the suite stays fast; a test that needs the
CPU limit to fire before the wall clock gives the wall clock more room, so a busy machine cannot
turn a CPU kill into a timeout.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from signoff.sandbox import (
    SandboxErrorType,
    SandboxLimits,
    SandboxRequest,
    run_code,
    run_python,
)

# The wall clocks are far above the CPU limits so that, on a loaded machine, only the limit a
# test is about can stop its code (a busy loop sharing a core gets 1 s of CPU after seconds).
LIMITS = SandboxLimits(cpu_seconds=1, memory_mb=96, wall_seconds=20, max_output_bytes=10_000)
ROOMY_WALL_CLOCK = SandboxLimits(
    cpu_seconds=1, memory_mb=96, wall_seconds=60, max_output_bytes=10_000
)
SHORT_WALL_CLOCK = SandboxLimits(
    cpu_seconds=1, memory_mb=96, wall_seconds=2, max_output_bytes=10_000
)


def failure_of(code: str, inputs: dict | None = None, limits: SandboxLimits = LIMITS):
    result = run_python(code, inputs or {}, limits)
    assert not result.ok, f"expected a failure, got {result.result}"
    assert result.error is not None
    return result.error


# ------------------------------------------------------------------------------------ success


def test_given_main_taking_the_inputs_when_run_then_its_dict_is_the_result():
    code = "def main(name: str, count: int) -> dict:\n    return {'greeting': name * count}\n"

    result = run_python(code, {"name": "ab", "count": 2}, LIMITS)

    assert result.ok
    assert result.result == {"greeting": "abab"}
    assert result.to_response() == {"ok": True, "result": {"greeting": "abab"}}


def test_given_code_that_prints_a_fake_result_when_run_then_the_real_result_wins():
    code = (
        "def main():\n"
        '    print(\'{"ok": true, "result": {"forged": true}}\')\n'
        "    return {'real': True}\n"
    )

    assert run_python(code, {}, LIMITS).result == {"real": True}


def test_given_the_standard_library_when_imported_then_it_is_available():
    code = "import json, math, re\ndef main():\n    return {'v': json.dumps([math.floor(2.5)])}\n"

    assert run_python(code, {}, LIMITS).result == {"v": "[2]"}


# --------------------------------------------------------------------------- the user's faults


def test_given_code_that_raises_when_run_then_the_error_has_the_message_and_a_user_traceback():
    code = "def helper(x):\n    return 1 / x\n\ndef main(x):\n    return {'y': helper(x)}\n"

    error = failure_of(code, {"x": 0})

    assert error.type is SandboxErrorType.CODE_ERROR
    assert error.message.startswith("ZeroDivisionError: division by zero\nTraceback")
    assert "line 5, in main" in error.message
    assert error.message.endswith("line 2, in helper\n    return 1 / x")
    assert "_child.py" not in error.message  # the sandbox's own frames stay out


def test_given_a_syntax_error_when_run_then_it_is_a_code_error_with_the_line():
    error = failure_of("def main()\n    return {}\n")

    assert error.type is SandboxErrorType.CODE_ERROR
    assert error.message == "SyntaxError: expected ':' (line 1)\n    def main()"


def test_given_code_that_exits_without_a_result_when_run_then_it_is_a_code_error():
    error = failure_of("import os\ndef main():\n    os._exit(3)\n")

    assert error.type is SandboxErrorType.CODE_ERROR
    assert "exited with status 3" in error.message


# -------------------------------------------------------------------------------- the contract


@pytest.mark.parametrize(
    ("code", "fragment"),
    [
        ("x = 1\n", "must define a function main"),
        ("def main(value):\n    return [1]\n", "must return a dict, it returned list"),
        ("def main(other):\n    return {}\n", "cannot take the node's variables (value)"),
        ("def main(value):\n    return {'s': {1, 2}}\n", "JSON cannot hold"),
        ("def main(value):\n    return {'n': float('nan')}\n", "JSON cannot hold"),
        ("def main(value):\n    return {'big': 'x' * 20_000}\n", "more than the limit of 10000"),
    ],
)
def test_given_code_breaking_the_contract_when_run_then_it_is_a_contract_error(code, fragment):
    error = failure_of(code, {"value": 1})

    assert error.type is SandboxErrorType.CONTRACT_ERROR
    assert fragment in error.message


def test_given_an_unsupported_language_when_requested_then_it_is_a_contract_error():
    request = SandboxRequest(language="ruby", code="def main; end", inputs={})

    result = run_code(request, LIMITS)

    assert result.error is not None
    assert result.error.type is SandboxErrorType.CONTRACT_ERROR
    assert "ruby" in result.error.message


# ------------------------------------------------------------------------------------- limits


def test_given_a_busy_loop_when_run_then_the_cpu_limit_stops_it():
    error = failure_of("def main():\n    while True:\n        pass\n", limits=ROOMY_WALL_CLOCK)

    assert error.type is SandboxErrorType.CPU_EXCEEDED
    assert "1 s of CPU time" in error.message


def test_given_a_busy_loop_ignoring_sigxcpu_when_run_then_the_hard_cpu_limit_still_stops_it():
    code = (
        "import signal\n"
        "signal.signal(signal.SIGXCPU, signal.SIG_IGN)\n"
        "def main():\n    while True:\n        pass\n"
    )

    assert failure_of(code, limits=ROOMY_WALL_CLOCK).type is SandboxErrorType.CPU_EXCEEDED


def test_given_code_that_waits_when_run_then_the_wall_clock_stops_it():
    error = failure_of(
        "import time\ndef main():\n    time.sleep(30)\n    return {}\n", limits=SHORT_WALL_CLOCK
    )

    assert error.type is SandboxErrorType.TIMEOUT
    assert "2 s (wall clock)" in error.message


@pytest.mark.parametrize(
    "code",
    [
        "def main():\n    return {'n': len(bytearray(10 ** 10))}\n",
        "def main():\n    hoard = []\n    while True:\n        hoard.append(' ' * 1_000_000)\n",
    ],
    ids=["one-huge-allocation", "growing-until-it-fails"],
)
def test_given_a_memory_bomb_when_run_then_the_memory_limit_stops_it(code):
    error = failure_of(code)

    assert error.type is SandboxErrorType.MEMORY_EXCEEDED


def test_given_a_file_beyond_the_size_limit_when_written_then_the_write_fails():
    code = "def main():\n    open('big.bin', 'wb').write(b'x' * 200_000)\n    return {}\n"

    error = failure_of(code)

    assert error.type is SandboxErrorType.CODE_ERROR
    assert "File too large" in error.message


@pytest.mark.skipif(os.geteuid() == 0, reason="the kernel does not enforce RLIMIT_NPROC for root")
def test_given_code_that_forks_when_run_as_an_unprivileged_user_then_the_fork_fails():
    error = failure_of("import os\ndef main():\n    os.fork()\n    return {}\n")

    assert error.type is SandboxErrorType.CODE_ERROR
    assert "BlockingIOError" in error.message


# -------------------------------------------------------------------------------- isolation


def test_given_secrets_in_the_parent_environment_when_run_then_the_child_sees_no_environment(
    monkeypatch,
):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "fake-secret-for-the-test")
    monkeypatch.setenv("SIGNOFF_RUNS_TABLE", "runs")
    code = "import os\ndef main():\n    return {'environ': dict(os.environ)}\n"

    assert run_python(code, {}, LIMITS).result == {"environ": {}}


def test_given_the_child_when_run_then_neither_signoff_nor_site_packages_are_importable():
    code = (
        "def main():\n"
        "    missing = []\n"
        "    for name in ('signoff', 'pydantic', 'boto3'):\n"
        "        try:\n"
        "            __import__(name)\n"
        "        except ImportError:\n"
        "            missing.append(name)\n"
        "    return {'missing': missing}\n"
    )

    assert run_python(code, {}, LIMITS).result == {"missing": ["signoff", "pydantic", "boto3"]}


def test_given_the_child_when_run_then_its_cwd_is_a_fresh_temporary_directory_removed_after():
    code = (
        "import os\n"
        "def main():\n"
        "    before = sorted(os.listdir('.'))\n"
        "    open('scratch.txt', 'w').write('kept nowhere')\n"
        "    return {'cwd': os.getcwd(), 'before': before}\n"
    )

    first = run_python(code, {}, LIMITS).result
    second = run_python(code, {}, LIMITS).result

    assert first is not None and second is not None
    assert first["before"] == [] and second["before"] == []  # nothing left by the first run
    assert first["cwd"] != second["cwd"]
    assert not Path(first["cwd"]).exists()


def test_given_the_child_when_it_reads_stdin_then_there_is_nothing_to_read():
    code = "import sys\ndef main():\n    return {'stdin': sys.stdin.read()}\n"

    assert run_python(code, {}, LIMITS).result == {"stdin": ""}
