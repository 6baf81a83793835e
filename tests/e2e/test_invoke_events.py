"""Every sample event in events/ through `signoff invoke`: what `sam local invoke -e` would run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from signoff.local.provision import plan_stack

pytestmark = pytest.mark.e2e

EVENTS = Path(__file__).resolve().parents[2] / "events"


def invoke(function: str, *, env: dict[str, str] | None = None) -> tuple[int, object, str]:
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "signoff.cli",
            "invoke",
            function,
            "-e",
            str(EVENTS / f"{function}.json"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )
    # stdout carries the result alone: the handlers' logs go to stderr.
    return completed.returncode, json.loads(completed.stdout), completed.stderr


def test_every_function_in_the_template_has_a_sample_event():
    functions = {spec.short_name for spec in plan_stack().functions.values()}

    assert {path.stem for path in EVENTS.glob("*.json")} == functions


def test_the_api_sample_is_a_health_check_answered_200():
    code, result, stderr = invoke("api")

    assert code == 0, stderr
    assert result["statusCode"] == 200
    assert json.loads(result["body"])["status"] == "ok"


def test_the_authorizer_sample_allows_the_key_the_cloud_was_seeded_with():
    token = json.loads((EVENTS / "authorizer.json").read_text())["authorizationToken"]

    code, result, stderr = invoke("authorizer", env={"SIGNOFF_DEV_KEY": token.split()[-1]})

    assert code == 0, stderr
    (statement,) = result["policyDocument"]["Statement"]
    assert statement["Effect"] == "Allow"
    assert result["context"]["tenant_id"] == "default"
    assert result["context"]["role"] == "admin"


def test_the_authorizer_sample_is_unauthorized_for_a_key_the_cloud_does_not_know():
    code, result, _ = invoke("authorizer", env={"SIGNOFF_DEV_KEY": "sk_some_other_key_entirely"})

    assert code == 1
    # Exactly what API Gateway turns into the UNAUTHORIZED (401) gateway response.
    assert result["errorMessage"] == "Unauthorized"


def test_the_node_sample_renders_its_template_with_variables_and_sys_values():
    code, result, stderr = invoke("node")

    assert code == 0, stderr
    assert result == {
        "outputs": {"output": "Hello, Ada! (run sample-run-0001)"},
        "status": "succeeded",
        "handle": "source",
    }


def test_the_sandbox_sample_runs_python_code_in_the_child_process():
    code, result, stderr = invoke("sandbox")

    assert code == 0, stderr
    assert result == {"ok": True, "result": {"greeting": "Hello, Ada!", "length": 3}}


def test_the_sandbox_js_sample_runs_javascript_code_in_a_node_child_process():
    code, result, stderr = invoke("sandbox_js")

    assert code == 0, stderr
    assert result == {"ok": True, "result": {"greeting": "Hello, Ada!", "length": 3}}


def test_the_settle_sample_names_a_run_an_ephemeral_cloud_does_not_have():
    code, result, _ = invoke("settle")

    # A fresh cloud holds no runs: settling one is the store's typed NotFound, not a crash.
    assert code == 1
    assert result["errorType"] == "NotFound"
    assert "sample-run-0001" in result["errorMessage"]


def test_the_review_sample_asks_for_a_review_of_a_run_an_ephemeral_cloud_does_not_have():
    code, result, _ = invoke("review")

    # Pausing a run the cloud never started is the store's typed NotFound, and no review is kept.
    assert code == 1
    assert result["errorType"] == "NotFound"
    assert "sample-run-0001" in result["errorMessage"]


def test_the_stream_sample_reattaches_through_the_web_adapter_and_finds_no_such_run():
    code, result, stderr = invoke("stream")

    # Lambda Web Adapter's translation: the proxy event becomes an HTTP request to the app, the
    # authorizer's context reaches it, and the app answers with the API's error shape.
    assert code == 0, stderr
    assert result["statusCode"] == 404
    body = json.loads(result["body"])
    assert body["code"] == "not_found"
    assert "sample-run-0001" in body["message"]


def test_the_reconcile_sample_leaves_an_execution_without_a_run_alone():
    code, result, stderr = invoke("reconcile")

    # Nothing to settle is success, not a retry: the message must not loop to the DLQ.
    assert code == 0, stderr
    assert result == {"batchItemFailures": []}
    assert "no run for an ended execution" in stderr


def test_the_webhook_fanout_sample_finds_no_subscription_and_sends_nothing():
    code, result, stderr = invoke("webhook_fanout")

    assert code == 0, stderr
    assert result == {"batchItemFailures": []}


def test_the_webhook_delivery_sample_for_a_deleted_subscription_is_dropped_not_retried():
    code, result, stderr = invoke("webhook_delivery")

    assert code == 0, stderr
    assert result == {"batchItemFailures": []}
    assert "webhook deleted: delivery dropped" in stderr
