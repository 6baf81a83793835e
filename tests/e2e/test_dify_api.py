"""Dify's /v1 Service API over real HTTP with an app key: runs, run details, stop, logs, the app's
parameters/info/meta/site, file upload used as a file input, and Dify's error shape."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from tests.support.workflows import greeter

pytestmark = pytest.mark.e2e

EXTRACTOR = {
    "id": "extract",
    "name": "extract",
    "description": "Reads an uploaded file.",
    "inputs": [{"variable": "doc", "type": "object", "required": True}],
    "nodes": [
        {"id": "start", "type": "start"},
        {"id": "read", "type": "document-extractor", "variable_selector": ["start", "doc"]},
        {
            "id": "end",
            "type": "end",
            "outputs": [{"variable": "text", "value_selector": ["read", "text"]}],
        },
    ],
    "edges": [{"source": "start", "target": "read"}, {"source": "read", "target": "end"}],
}


def waiting_greeter() -> dict:
    """The greeter whose greeting waits for a person's review: a run of it stays paused."""
    document = greeter(id="waiter", name="waiter")
    document["nodes"][1]["review"] = {"max_rounds": 1}
    return document


@dataclass
class DifyApp:
    base_url: str
    admin: httpx.Client
    app: httpx.Client
    extract: httpx.Client
    waiter: httpx.Client


def _client(base_url: str, key: str) -> httpx.Client:
    return httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {key}"}, timeout=60)


def _app_key(admin: httpx.Client, workflow_id: str) -> str:
    created = admin.post(
        "/keys", json={"name": workflow_id, "role": "app", "workflow_id": workflow_id}
    )
    assert created.status_code == 201, created.text
    return created.json()["key"]


@pytest.fixture(scope="module")
def dify(local_cloud) -> Iterator[DifyApp]:
    """A tenant of its own (so its logs hold only this module's runs) with three app keys."""
    tenant_id = f"dify-{secrets.token_hex(4)}"
    with _client(local_cloud.base_url, local_cloud.admin_key) as operator:
        created = operator.post(
            "/tenants", json={"name": tenant_id, "tenant_id": tenant_id, "plan": "enterprise"}
        )
        assert created.status_code == 201, created.text
        admin_key = created.json()["key"]["key"]
    admin = _client(local_cloud.base_url, admin_key)
    for document in (greeter(), EXTRACTOR, waiting_greeter()):
        assert admin.post("/workflows", json=document).status_code == 201
    app = _client(local_cloud.base_url, _app_key(admin, "greeter"))
    extract = _client(local_cloud.base_url, _app_key(admin, "extract"))
    waiter = _client(local_cloud.base_url, _app_key(admin, "waiter"))
    try:
        yield DifyApp(local_cloud.base_url, admin, app, extract, waiter)
    finally:
        for client in (admin, app, extract, waiter):
            client.close()


def _run(client: httpx.Client, inputs: dict, user: str = "u-1", **extra) -> httpx.Response:
    return client.post(
        "/v1/workflows/run",
        json={"inputs": inputs, "response_mode": "blocking", "user": user, **extra},
    )


def test_given_an_app_key_when_a_blocking_run_is_posted_then_difys_blocking_answer(dify):
    answer = _run(dify.app, {"name": "Ada"})

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert set(body) == {"task_id", "workflow_run_id", "data"}
    assert body["task_id"] == body["workflow_run_id"]
    data = body["data"]
    assert set(data) == {
        "id", "workflow_id", "status", "outputs", "error", "elapsed_time", "total_tokens",
        "total_steps", "created_at", "finished_at",
    }  # fmt: skip
    assert data["id"] == body["workflow_run_id"]
    # Dify's workflow id of a run: the id of the version it ran (here the newest).
    assert data["workflow_id"] == dify.admin.get("/workflows/greeter").json()["version_id"]
    assert data["status"] == "succeeded"
    assert data["outputs"] == {"greeting": "Hello, Ada!"}
    assert data["error"] is None
    assert isinstance(data["elapsed_time"], float)
    assert isinstance(data["created_at"], int) and isinstance(data["finished_at"], int)
    assert abs(data["created_at"] - time.time()) < 120
    assert data["finished_at"] >= data["created_at"]
    assert data["total_steps"] == 1  # the template node; start and end run natively
    assert data["total_tokens"] == 0


def test_given_the_pinned_route_then_it_runs_the_app_workflow_and_no_other(dify):
    pinned = dify.app.post(
        "/v1/workflows/greeter/run",
        json={"inputs": {"name": "Pin"}, "response_mode": "blocking", "user": "u-1"},
    )
    other = dify.app.post(
        "/v1/workflows/extract/run",
        json={"inputs": {}, "response_mode": "blocking", "user": "u-1"},
    )
    by_admin = dify.admin.post(
        "/v1/workflows/greeter/run",
        json={"inputs": {"name": "Admin"}, "response_mode": "blocking", "user": "u-1"},
    )

    assert pinned.status_code == 200, pinned.text
    assert pinned.json()["data"]["outputs"] == {"greeting": "Hello, Pin!"}
    assert other.status_code == 404
    assert other.json() == {
        "status": 404,
        "code": "not_found",
        "message": "workflow extract not found",
        "error_code": 3000,
    }
    assert by_admin.status_code == 200
    assert by_admin.json()["data"]["outputs"] == {"greeting": "Hello, Admin!"}


def test_given_a_finished_run_when_read_then_inputs_are_a_json_string(dify):
    run_id = _run(dify.app, {"name": "Grace"}).json()["workflow_run_id"]

    answer = dify.app.get(f"/v1/workflows/run/{run_id}")

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert set(body) == {
        "id", "workflow_id", "status", "inputs", "outputs", "error", "total_steps",
        "total_tokens", "created_at", "finished_at", "elapsed_time",
    }  # fmt: skip
    assert isinstance(body["inputs"], str)
    assert json.loads(body["inputs"]) == {"name": "Grace", "times": 1}
    assert body["outputs"] == {"greeting": "Hello, Grace!"}
    assert body["status"] == "succeeded"
    assert isinstance(body["created_at"], int) and isinstance(body["elapsed_time"], float)


def test_given_difys_errors_then_difys_shape_and_codes(dify, local_cloud):
    missing_user = dify.app.post("/v1/workflows/run", json={"inputs": {"name": "x"}})
    bad_input = _run(dify.app, {"name": 3})
    unknown_run = dify.app.get("/v1/workflows/run/no-such-run")
    no_key = httpx.post(f"{local_cloud.base_url}/v1/workflows/run", json={"user": "u"})
    admin_without_app = dify.admin.get("/v1/parameters")

    assert missing_user.status_code == 400
    assert missing_user.json()["code"] == "invalid_param"
    assert set(missing_user.json()) == {"status", "code", "message", "error_code"}
    assert "user" in missing_user.json()["message"]
    assert bad_input.status_code == 400
    assert bad_input.json() == {
        "status": 400,
        "code": "invalid_param",
        "message": "input name must be a string",
        "error_code": 1000,
    }
    assert unknown_run.status_code == 404
    assert unknown_run.json() == {
        "status": 404,
        "code": "not_found",
        "message": "run no-such-run not found",
        "error_code": 3000,
    }
    assert no_key.status_code == 401
    assert no_key.json()["code"] == "unauthorized"
    assert admin_without_app.status_code == 400
    assert admin_without_app.json()["code"] == "not_workflow_app"


def test_given_another_apps_run_then_it_is_not_found(dify):
    run_id = _run(dify.app, {"name": "Mine"}).json()["workflow_run_id"]

    answer = dify.extract.get(f"/v1/workflows/run/{run_id}")

    assert answer.status_code == 404
    assert answer.json()["code"] == "not_found"


def test_given_a_paused_task_when_stopped_then_success_and_the_run_is_stopped(dify):
    started = _run(dify.waiter, {"name": "Wait"}, user="u-stop")
    assert started.status_code == 200, started.text
    assert started.json()["data"]["status"] == "paused"
    assert started.json()["data"]["finished_at"] is None
    run_id = started.json()["task_id"]

    stopped = dify.waiter.post(f"/v1/workflows/tasks/{run_id}/stop", json={"user": "u-stop"})
    again = dify.waiter.post(f"/v1/workflows/tasks/{run_id}/stop", json={"user": "u-stop"})
    no_user = dify.waiter.post(f"/v1/workflows/tasks/{run_id}/stop", json={})
    other_app = dify.app.post(f"/v1/workflows/tasks/{run_id}/stop", json={"user": "u-stop"})

    assert stopped.status_code == 200, stopped.text
    assert stopped.json() == {"result": "success"}
    assert again.json() == {"result": "success"}
    assert no_user.status_code == 400 and no_user.json()["code"] == "invalid_param"
    assert other_app.status_code == 404
    detail = dify.waiter.get(f"/v1/workflows/run/{run_id}").json()
    assert detail["status"] == "stopped"
    assert isinstance(detail["finished_at"], int)


def test_given_runs_when_logs_are_read_then_difys_page_with_filters(dify):
    marker = f"log-{secrets.token_hex(3)}"
    for index in range(3):
        assert (
            _run(dify.app, {"name": f"{marker}-{index}"}, user=f"user-{marker}").status_code == 200
        )
    assert _run(dify.app, {"name": 7}).status_code == 400  # refused: no run

    first = dify.app.get("/v1/workflows/logs", params={"keyword": marker, "limit": 2}).json()
    second = dify.app.get(
        "/v1/workflows/logs", params={"keyword": marker, "limit": 2, "page": 2}
    ).json()
    by_user = dify.app.get(
        "/v1/workflows/logs", params={"created_by_end_user_session_id": f"user-{marker}"}
    ).json()
    failed = dify.app.get("/v1/workflows/logs", params={"status": "failed"}).json()
    future = dify.app.get(
        "/v1/workflows/logs", params={"created_at__after": "2999-01-01T00:00:00Z"}
    ).json()
    bad_limit = dify.app.get("/v1/workflows/logs", params={"limit": 101})

    assert (first["page"], first["limit"], first["total"], first["has_more"]) == (1, 2, 3, True)
    assert (second["page"], second["total"], second["has_more"]) == (2, 3, False)
    assert len(first["data"]) == 2 and len(second["data"]) == 1
    entry = first["data"][0]
    assert set(entry) == {
        "id", "workflow_run", "created_from", "created_by_role", "created_by_account",
        "created_by_end_user", "created_at", "details",
    }  # fmt: skip
    assert set(entry["workflow_run"]) == {
        "id", "version", "status", "error", "elapsed_time", "total_tokens", "total_steps",
        "created_at", "finished_at", "exceptions_count", "triggered_from",
    }  # fmt: skip
    assert entry["workflow_run"]["status"] == "succeeded"
    assert entry["workflow_run"]["version"] == "1"
    assert entry["created_by_end_user"] == {
        "id": f"user-{marker}",
        "type": "service_api",
        "is_anonymous": False,
        "session_id": f"user-{marker}",
    }
    # newest first
    assert first["data"][0]["created_at"] >= first["data"][1]["created_at"]
    assert by_user["total"] == 3
    assert failed["total"] == 0
    assert future["total"] == 0 and future["data"] == []
    assert bad_limit.status_code == 400 and bad_limit.json()["code"] == "invalid_param"


def test_given_the_app_then_parameters_info_meta_and_site(dify):
    parameters = dify.app.get("/v1/parameters", params={"user": "u-1"})
    info = dify.app.get("/v1/info")
    meta = dify.app.get("/v1/meta")
    site = dify.app.get("/v1/site")

    assert parameters.status_code == 200, parameters.text
    form = parameters.json()["user_input_form"]
    assert form == [
        {
            "text-input": {
                "label": "name",
                "variable": "name",
                "required": True,
                "default": "",
                "type": "text-input",
                "max_length": None,
            }
        },
        {
            "number": {
                "label": "times",
                "variable": "times",
                "required": False,
                "default": 1,
                "type": "number",
            }
        },
    ]
    assert parameters.json()["file_upload"]["enabled"] is False
    assert parameters.json()["system_parameters"]["file_size_limit"] == 15
    assert info.json() == {
        "name": "greeter",
        "description": "Says hello.",
        "tags": [],
        "mode": "workflow",
        "author_name": "",
    }
    assert meta.json() == {"tool_icons": {}}
    assert site.json()["title"] == "greeter"


def test_given_an_uploaded_file_then_a_run_reads_it_as_a_local_file_input(dify):
    uploaded = dify.extract.post(
        "/v1/files/upload",
        data={"user": "u-files"},
        files={"file": ("notes.txt", "Über uploads: ok".encode(), "text/plain")},
    )

    assert uploaded.status_code == 201, uploaded.text
    upload = uploaded.json()
    assert set(upload) == {
        "id",
        "name",
        "size",
        "extension",
        "mime_type",
        "created_by",
        "created_at",
    }
    assert upload["name"] == "notes.txt"
    assert upload["extension"] == "txt"
    assert upload["mime_type"] == "text/plain"
    assert upload["size"] == len("Über uploads: ok".encode())
    assert upload["created_by"] == "u-files"
    assert isinstance(upload["created_at"], int)

    doc = {"type": "document", "transfer_method": "local_file", "upload_file_id": upload["id"]}
    answer = _run(dify.extract, {"doc": doc}, user="u-files")

    assert answer.status_code == 200, answer.text
    assert answer.json()["data"]["outputs"] == {"text": "Über uploads: ok"}


def test_given_bad_uploads_then_difys_errors(dify):
    no_file = dify.extract.post(
        "/v1/files/upload", data={"user": "u"}, files={"other": ("a", b"x")}
    )
    no_user = dify.extract.post("/v1/files/upload", files={"file": ("a.txt", b"x", "text/plain")})
    unknown = _run(
        dify.extract,
        {"doc": {"type": "document", "transfer_method": "local_file", "upload_file_id": "nope"}},
    )

    assert no_file.status_code == 400 and no_file.json()["code"] == "no_file_uploaded"
    assert no_user.status_code == 400 and no_user.json()["code"] == "invalid_param"
    assert unknown.status_code == 400
    assert unknown.json() == {
        "status": 400,
        "code": "invalid_param",
        "message": "input doc: no uploaded file 'nope'",
        "error_code": 1000,
    }
