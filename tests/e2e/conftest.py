"""The local cloud as users run it: `signoff dev` in a child process, reached over HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from signoff.local.process import DevServer

E2E_ADMIN_KEY = "sk_e2e_admin_key_for_the_test_suite"
# Webhook retries 1 s apart, 3 attempts in all, so a failing delivery is dead-lettered within
# seconds (the deployment's schedule backs off over hours).
E2E_STACK_PARAMETERS = {"WebhookRetryDelays": "[1]", "WebhookMaxAttempts": "3"}
E2E_ENV = {"SIGNOFF_STACK_PARAMETERS": json.dumps(E2E_STACK_PARAMETERS)}
_LOG_TAIL_LINES = 200
_servers: list[DevServer] = []


@pytest.fixture(scope="session")
def local_cloud() -> Iterator[DevServer]:
    """`signoff dev --port <free> --aws-port <free>` with a known admin key, ready to serve."""
    with DevServer.start(admin_key=E2E_ADMIN_KEY, extra_env=E2E_ENV) as server:
        _servers.append(server)
        try:
            yield server
        finally:
            _servers.remove(server)


@pytest.fixture
def api(local_cloud: DevServer) -> Iterator[httpx.Client]:
    """An HTTP client on the local cloud's API, sending the admin key."""
    with httpx.Client(
        base_url=local_cloud.base_url,
        headers={"Authorization": f"Bearer {local_cloud.admin_key}"},
        timeout=60,
    ) as client:
        yield client


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    """A failing test that used the local cloud shows what the cloud logged."""
    outcome = yield
    report = outcome.get_result()
    if report.failed and _servers and "local_cloud" in getattr(item, "fixturenames", ()):
        tail = "\n".join(_servers[-1].log().splitlines()[-_LOG_TAIL_LINES:])
        report.sections.append(("signoff dev log (last lines)", tail))
