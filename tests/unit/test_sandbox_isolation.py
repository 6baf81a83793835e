"""The code sandbox holds: no environment, no credentials, no network, no writes outside its
temporary directory, no new processes; its limits stop the code with a clear error.

Each test runs real code in the real child process and asserts what the code could not do.
"""

from __future__ import annotations

import ctypes
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from signoff.sandbox import SandboxErrorType, SandboxLimits, run_python
from signoff.sandbox.python_runner import protect_parent

LIMITS = SandboxLimits(cpu_seconds=2, memory_mb=256, wall_seconds=5, max_output_bytes=100_000)

# The probe every test uses: call each action, report its result or the exception it raised.
PROBE = """
def attempt(action):
    try:
        return {"ok": True, "value": repr(action())}
    except BaseException as error:
        return {"ok": False, "error": type(error).__name__ + ": " + str(error)}
"""


def landlock_abi() -> int:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    return int(libc.syscall(444, None, 0, 1))


needs_landlock = pytest.mark.skipif(
    landlock_abi() < 1, reason="this kernel has no Landlock: file access is not confined"
)


def probe(body: str, **inputs: object) -> dict[str, dict[str, object]]:
    names = ", ".join(inputs)
    code = (
        PROBE + f"\ndef main({names}):\n" + "\n".join(f"    {line}" for line in body.splitlines())
    )
    result = run_python(code, inputs, LIMITS)
    assert result.ok, result.error
    assert result.result is not None
    return result.result


@pytest.fixture
def listening_port() -> Iterator[int]:
    """A TCP port on loopback that accepts connections (what the local AWS endpoint is)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield server.getsockname()[1]


# ----------------------------------------------------------------------- environment, credentials


def test_given_credentials_in_the_service_environment_when_code_looks_then_it_finds_none(
    monkeypatch,
):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret-of-the-service")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "session-of-the-service")

    found = probe(
        "import os\n"
        "return {\n"
        "    'environ': attempt(lambda: dict(os.environ)),\n"
        "    'parent': attempt(lambda: open(f'/proc/{ppid}/environ', 'rb').read()),\n"
        "    'own': attempt(lambda: open('/proc/self/environ', 'rb').read()),\n"
        "}",
        ppid=os.getpid(),
    )

    assert found["environ"] == {"ok": True, "value": "{}"}
    assert not found["parent"]["ok"]
    assert "secret-of-the-service" not in str(found)


def test_given_a_sandbox_run_then_the_service_process_is_not_dumpable():
    run_python("def main():\n    return {}\n", {}, LIMITS)

    # PR_GET_DUMPABLE: 0 means /proc/<pid>/environ and memory are closed to unprivileged peers.
    assert ctypes.CDLL(None).prctl(3, 0, 0, 0, 0) == 0
    assert protect_parent() is True


@needs_landlock
def test_given_credential_files_when_code_reads_them_then_it_is_refused(tmp_path):
    credentials = tmp_path / "credentials"
    credentials.write_text("[default]\naws_secret_access_key = secret-on-disk\n")

    found = probe(
        "return {\n"
        "    'file': attempt(lambda: open(path).read()),\n"
        "    'etc': attempt(lambda: open('/etc/passwd').read()),\n"
        "    'home': attempt(lambda: __import__('os').listdir(home)),\n"
        "}",
        path=str(credentials),
        home=str(Path.home()),
    )

    assert not found["file"]["ok"]
    assert not found["etc"]["ok"]
    assert not found["home"]["ok"]
    assert "secret-on-disk" not in str(found)


# ----------------------------------------------------------------------------------- network


def test_given_the_aws_endpoint_on_loopback_when_code_connects_then_it_cannot(listening_port):
    found = probe(
        "import socket\n"
        "return {'connect': attempt(lambda: socket.create_connection(('127.0.0.1', port), 2))}",
        port=listening_port,
    )

    assert not found["connect"]["ok"], found


def test_given_the_instance_metadata_address_when_code_connects_then_it_cannot():
    found = probe(
        "import socket, urllib.request\n"
        "return {\n"
        "    'connect': attempt(lambda: socket.create_connection(('169.254.169.254', 80), 2)),\n"
        "    'http': attempt(lambda: urllib.request.urlopen(\n"
        "        'http://169.254.169.254/latest/meta-data/', timeout=2).read()),\n"
        "}"
    )

    assert not found["connect"]["ok"], found
    assert not found["http"]["ok"], found


def test_given_code_when_it_opens_an_internet_socket_then_the_kernel_refuses_it():
    found = probe(
        "import socket\n"
        "return {\n"
        "    'tcp': attempt(lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM)),\n"
        "    'udp6': attempt(lambda: socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)),\n"
        "    'unix': attempt(lambda: socket.socket(socket.AF_UNIX).close()),\n"
        "}"
    )

    assert found["tcp"] == {"ok": False, "error": "PermissionError: [Errno 13] Permission denied"}
    assert not found["udp6"]["ok"]
    assert found["unix"]["ok"]


# --------------------------------------------------------------------------------- file system


@needs_landlock
def test_given_code_when_it_writes_outside_its_directory_then_it_is_refused(tmp_path):
    outside = tmp_path / "escaped.txt"

    found = probe(
        "return {\n"
        "    'outside': attempt(lambda: open(outside, 'w').write('x')),\n"
        "    'tmp': attempt(lambda: open('/tmp/signoff-sandbox-escape', 'w').write('x')),\n"
        "    'inside': attempt(lambda: open('inside.txt', 'w').write('x')),\n"
        "}",
        outside=str(outside),
    )

    assert not found["outside"]["ok"]
    assert not found["tmp"]["ok"]
    assert found["inside"] == {"ok": True, "value": "1"}
    assert not outside.exists()
    assert not Path("/tmp/signoff-sandbox-escape").exists()


# ------------------------------------------------------------------------- processes and limits


def test_given_code_that_forks_or_starts_a_thread_then_neither_starts():
    found = probe(
        "import os, threading\n"
        "return {\n"
        "    'fork': attempt(lambda: os.fork()),\n"
        "    'thread': attempt(lambda: threading.Thread(target=print).start()),\n"
        "}"
    )

    assert not found["fork"]["ok"]
    assert not found["thread"]["ok"]


# Each case leaves the other limits far away, so only the limit under test can stop the code, on a
# loaded machine too: a busy loop on a shared core gets its second of CPU time after several
# seconds of wall clock.
@pytest.mark.parametrize(
    ("code", "limits", "error_type", "fragment"),
    [
        (
            "def main():\n    while True:\n        pass\n",
            SandboxLimits(cpu_seconds=1, memory_mb=128, wall_seconds=60, max_output_bytes=10_000),
            SandboxErrorType.CPU_EXCEEDED,
            "CPU",
        ),
        (
            "def main():\n    return {'n': len(bytearray(10 ** 10))}\n",
            SandboxLimits(cpu_seconds=10, memory_mb=128, wall_seconds=60, max_output_bytes=10_000),
            SandboxErrorType.MEMORY_EXCEEDED,
            "memory",
        ),
        (
            "import time\ndef main():\n    time.sleep(60)\n    return {}\n",
            SandboxLimits(cpu_seconds=10, memory_mb=128, wall_seconds=3, max_output_bytes=10_000),
            SandboxErrorType.TIMEOUT,
            "wall clock",
        ),
    ],
    ids=["cpu", "memory", "wall-clock"],
)
def test_given_code_past_a_limit_then_it_is_stopped_with_a_clear_error(
    code, limits, error_type, fragment
):
    result = run_python(code, {}, limits)

    assert not result.ok
    assert result.error is not None
    assert result.error.type is error_type
    assert fragment in result.error.message
