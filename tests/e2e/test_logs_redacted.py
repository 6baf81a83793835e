"""No credential reaches the logs: a whole session through the local cloud, every function logging
its full event (LogEvents=true), then the captured log is searched for every secret used."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator

import boto3
import httpx
import pytest

from signoff.local.fake_llm import LOCAL_SECRET_ID
from signoff.local.process import DevServer
from tests.support.workflows import greeter

pytestmark = pytest.mark.e2e

DEV_KEY = f"sk_logs_{secrets.token_urlsafe(24)}"
TOKEN_SECRET_NAME = "signoff-dev-token-signing"


@pytest.fixture(scope="module")
def logging_cloud() -> Iterator[DevServer]:
    parameters = json.dumps({"LogEvents": "true"})
    with DevServer.start(
        admin_key=DEV_KEY, extra_env={"SIGNOFF_STACK_PARAMETERS": parameters}
    ) as server:
        yield server


def client(server: DevServer, credential: str) -> httpx.Client:
    return httpx.Client(
        base_url=server.base_url, headers={"Authorization": f"Bearer {credential}"}, timeout=60
    )


def test_given_a_session_using_every_kind_of_credential_then_the_log_holds_none_of_them(
    logging_cloud,
):
    used: dict[str, str] = {"dev key": DEV_KEY}
    with client(logging_cloud, DEV_KEY) as operator:
        tenant = operator.post("/tenants", json={"name": "logs", "tenant_id": "logs"}).json()
    used["tenant admin key"] = tenant["key"]["key"]
    with client(logging_cloud, used["tenant admin key"]) as admin:
        assert admin.post("/workflows", json=greeter()).status_code == 201
        hook = admin.post(
            "/webhooks", json={"url": "https://93.184.216.34/hook", "events": ["loop.*"]}
        ).json()
        used["webhook secret"] = hook["secret"]
        rotated = admin.post(f"/webhooks/{hook['id']}/rotate-secret", json={}).json()
        used["rotated webhook secret"] = rotated["secret"]
        run = admin.post(
            "/workflows/greeter/runs",
            json={"inputs": {"name": "Ada"}},
            headers={"Idempotency-Key": "logs-1"},
        ).json()
        app = admin.post(
            "/keys", json={"name": "widget", "role": "app", "workflow_id": "greeter"}
        ).json()
        used["app key"] = app["key"]
        used["rotated app key"] = admin.post(f"/keys/{app['id']}/rotate").json()["key"]["key"]
        used["token"] = admin.post(
            "/tokens", json={"scopes": [f"runs:{run['run_id']}:reviews"], "subject": "alice"}
        ).json()["token"]
    with client(logging_cloud, used["token"]) as reviewer:
        assert reviewer.get(f"/runs/{run['run_id']}").status_code == 200
    with client(logging_cloud, used["app key"]) as app_client:
        assert app_client.get("/keys").status_code == 403
    refused = f"sk_never_issued_{secrets.token_urlsafe(16)}"
    used["refused key"] = refused
    with client(logging_cloud, refused) as stranger:
        assert stranger.get("/workflows").status_code == 401
    secretsmanager = boto3.client(
        "secretsmanager",
        endpoint_url=logging_cloud.aws_endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    for label, secret_id in (
        ("token signing secret", TOKEN_SECRET_NAME),
        ("llm provider key", LOCAL_SECRET_ID),
    ):
        used[label] = secretsmanager.get_secret_value(SecretId=secret_id)["SecretString"]

    log = logging_cloud.log()

    # The events were logged (with their Authorization headers redacted), so the search means
    # something.
    assert '"Authorization":"[redacted]"' in log.replace(" ", "")
    assert '"authorizationToken":"[redacted]"' in log.replace(" ", "")
    leaked = [label for label, value in used.items() if value in log]
    assert leaked == []
