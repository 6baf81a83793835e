"""`signoff dev` in a child process: how the end-to-end tests and the benchmarks get a local cloud.

A child process keeps the client's threads and the cloud's threads apart, as they are in real life,
and lets a test read everything the cloud logged when something fails.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class DevServer:
    base_url: str
    aws_endpoint_url: str
    admin_key: str
    log_path: Path
    process: subprocess.Popen[bytes]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    @classmethod
    @contextmanager
    def start(
        cls,
        *,
        admin_key: str | None = None,
        startup_timeout: float = 120.0,
        extra_env: dict[str, str] | None = None,
    ) -> Iterator[DevServer]:
        key = admin_key or f"sk_dev_{secrets.token_urlsafe(24)}"
        port, aws_port = free_port(), free_port()
        # Unbuffered: a failing test reads the log while the server still runs.
        env = {**os.environ, "SIGNOFF_DEV_KEY": key, "PYTHONUNBUFFERED": "1", **(extra_env or {})}
        command = [
            sys.executable,
            "-m",
            "signoff.cli",
            "dev",
            "--port",
            str(port),
            "--aws-port",
            str(aws_port),
        ]
        with tempfile.NamedTemporaryFile(
            prefix="signoff-dev-", suffix=".log", delete=False
        ) as log_file:
            process = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT, env=env)
            server = cls(
                base_url=f"http://127.0.0.1:{port}",
                aws_endpoint_url=f"http://127.0.0.1:{aws_port}",
                admin_key=key,
                log_path=Path(log_file.name),
                process=process,
            )
            try:
                server._wait_until_ready(startup_timeout)
                yield server
            finally:
                process.terminate()
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()

    def _wait_until_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        headers = {"Authorization": f"Bearer {self.admin_key}"}
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"signoff dev exited early:\n{self.log()}")
            try:
                # Ready means the API answers and the examples are deployed.
                response = httpx.get(f"{self.base_url}/workflows", headers=headers, timeout=2)
                if response.status_code == 200 and "ready" in self.log():
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        raise RuntimeError(f"signoff dev was not ready after {timeout} s:\n{self.log()}")
