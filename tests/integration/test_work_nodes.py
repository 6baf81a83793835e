"""Nodes that reach other systems, through run_node with moto: a tool and a retriever registered
as Lambda functions (their handler runs in process, as the local cloud runs it), uploaded files
in S3, and an http-request's file answer stored as an upload that a document-extractor reads."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from signoff.local.functions import FunctionRunner, FunctionSpec, activate
from signoff.net import AddressGuard
from signoff.nodes.errors import FileUnavailable, ToolInvocationFailed
from signoff.nodes.files import upload_key
from signoff.nodes.integrations import AwsClients, Integrations
from signoff.nodes.registry import LambdaTarget
from signoff.nodes.runtime import run_node
from signoff.providers.credentials import CredentialResolver
from signoff.store.node_executions import DynamoNodeExecutionRepository, NodeExecutionStatus
from tests.support.documents import pdf_with_lines
from tests.support.local_http import LocalHttpServer, Reply

pytestmark = pytest.mark.integration

REGION = "us-east-1"
TOOLBOX = (
    Path(__file__).resolve().parents[1] / "fixtures" / "integrations" / "functions" / "toolbox"
)
FUNCTION = "signoff-tool-toolbox"
BUCKET = "signoff-payloads-test"
RUN = {"run_id": "run-1", "tenant_id": "tenant-a", "workflow_id": "wf", "user": "ada"}


@pytest.fixture
def toolbox(aws: None) -> Iterator[str]:
    """The toolbox function in moto's Lambda, its handler answering in this process."""
    iam = boto3.client("iam", region_name=REGION)
    role = iam.create_role(
        RoleName="toolbox",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )["Role"]["Arn"]
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("app.py", (TOOLBOX / "app.py").read_text())
    boto3.client("lambda", region_name=REGION).create_function(
        FunctionName=FUNCTION,
        Runtime="python3.11",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": package.getvalue()},
    )
    spec = FunctionSpec(
        logical_id="ToolboxFunction", function_name=FUNCTION, code_dir=TOOLBOX, timeout_seconds=10
    )
    previous = activate(FunctionRunner({"ToolboxFunction": spec}))
    try:
        yield FUNCTION
    finally:
        activate(previous)


@pytest.fixture
def bucket(aws: None) -> str:
    boto3.client("s3", region_name=REGION).create_bucket(Bucket=BUCKET)
    return BUCKET


@pytest.fixture
def executions(dynamodb: Any, tables: dict[str, str]) -> DynamoNodeExecutionRepository:
    return DynamoNodeExecutionRepository(tables["NodeExecutionsTable"], client=dynamodb)


def integrations(**fields: Any) -> Integrations:
    return Integrations(
        aws=AwsClients(
            {
                "lambda": boto3.client("lambda", region_name=REGION),
                "s3": boto3.client("s3", region_name=REGION),
            }
        ),
        **fields,
    )


def event(node_id: str, node_type: str, config: dict[str, Any], variables: dict[str, Any]):
    return {
        "run": RUN,
        "node": {"id": node_id, "type": node_type, "config": config},
        "variables": variables,
        "attempt": 1,
    }


def run(node_event: dict[str, Any], executions: Any, wired: Integrations) -> dict[str, Any]:
    return run_node(
        node_event,
        executions=executions,
        code_runner=None,  # type: ignore[arg-type]
        integrations=wired,
        sleep=lambda seconds: None,
    )


TOOL_CONFIG = {
    "provider_id": "toolbox",
    "tool_name": "forecast",
    "tool_configurations": {"units": "imperial"},
    "tool_parameters": {"city": {"type": "variable", "value": ["start", "city"]}},
}


def test_given_a_lambda_tool_when_the_node_runs_then_the_function_answers_the_outputs(
    toolbox, executions
):
    wired = integrations(tools={"toolbox/forecast": LambdaTarget(function=toolbox)})

    answer = run(
        event("weather", "tool", TOOL_CONFIG, {"start": {"city": "Oslo"}}), executions, wired
    )

    assert answer["outputs"] == {
        "provider": "toolbox",
        "text": "Oslo: sunny, imperial",
        "files": [],
        "json": [{"city": "Oslo", "temperature": 21}],
    }
    [record] = executions.list_for_run("tenant-a", "run-1")
    assert record.inputs == {"units": "imperial", "city": "Oslo"}
    assert record.status is NodeExecutionStatus.SUCCEEDED


def test_given_a_lambda_tool_that_raises_then_the_node_fails_with_its_message(toolbox, executions):
    wired = integrations(tools={"toolbox/forecast": LambdaTarget(function=toolbox)})
    config = {
        **TOOL_CONFIG,
        "tool_parameters": {
            **TOOL_CONFIG["tool_parameters"],
            "fail": {"type": "constant", "value": True},
        },
    }

    with pytest.raises(ToolInvocationFailed, match=r"RuntimeError.*down for Oslo"):
        run(event("weather", "tool", config, {"start": {"city": "Oslo"}}), executions, wired)


def test_given_an_unregistered_tool_and_fail_branch_then_the_run_goes_on_by_the_fail_branch(
    executions,
):
    config = {**TOOL_CONFIG, "error_strategy": "fail-branch"}

    answer = run(
        event("weather", "tool", config, {"start": {"city": "Oslo"}}), executions, integrations()
    )

    assert answer["handle"] == "fail-branch"
    assert answer["outputs"]["error_type"] == "ToolNotRegistered"
    assert "toolbox/forecast" in answer["outputs"]["error_message"]


def test_given_a_lambda_retriever_then_its_records_are_the_result(toolbox, executions):
    wired = integrations(retrievers={"handbook": LambdaTarget(function=toolbox)})
    config = {
        "query_variable_selector": ["start", "q"],
        "dataset_ids": ["handbook"],
        "multiple_retrieval_config": {"top_k": 2},
    }

    answer = run(
        event("kb", "knowledge-retrieval", config, {"start": {"q": "leave"}}), executions, wired
    )

    assert [
        (r["content"], r["title"], r["metadata"]["position"]) for r in answer["outputs"]["result"]
    ] == [
        ("About leave: chunk 0", "handbook-0.md", 1),
        ("About leave: chunk 1", "handbook-1.md", 2),
    ]


EXTRACT = {"variable_selector": ["start", "file"]}


def test_given_an_uploaded_file_when_extracted_then_it_is_read_from_the_tenant_s_uploads(
    bucket, executions
):
    boto3.client("s3", region_name=REGION).put_object(
        Bucket=bucket, Key=upload_key("tenant-a", "up-1"), Body=pdf_with_lines("Uploaded PDF")
    )
    file = {
        "type": "document",
        "transfer_method": "local_file",
        "upload_file_id": "up-1",
        "filename": "scan.pdf",
    }

    answer = run(
        event("extract", "document-extractor", EXTRACT, {"start": {"file": file}}),
        executions,
        integrations(uploads_bucket=bucket),
    )

    assert answer["outputs"] == {"text": "Uploaded PDF"}


def test_given_another_tenant_s_upload_then_it_cannot_be_read(bucket, executions):
    s3 = boto3.client("s3", region_name=REGION)
    s3.put_object(Bucket=bucket, Key=upload_key("tenant-b", "up-9"), Body=b"secret of b")
    wired = integrations(uploads_bucket=bucket)
    by_id = {"transfer_method": "local_file", "upload_file_id": "up-9", "filename": "x.txt"}
    by_url = {
        "transfer_method": "remote_url",
        "url": f"s3://{bucket}/tenant-b/uploads/up-9",
        "filename": "x.txt",
    }

    with pytest.raises(FileUnavailable, match="could not be read"):
        run(
            event("extract", "document-extractor", EXTRACT, {"start": {"file": by_id}}),
            executions,
            wired,
        )
    with pytest.raises(FileUnavailable, match="outside this tenant"):
        run(
            event("extract", "document-extractor", EXTRACT, {"start": {"file": by_url}}),
            executions,
            wired,
        )


def test_given_an_s3_url_of_the_tenant_then_it_is_read(bucket, executions):
    boto3.client("s3", region_name=REGION).put_object(
        Bucket=bucket, Key="tenant-a/docs/notes.md", Body=b"# Notes"
    )
    file = {"transfer_method": "remote_url", "url": f"s3://{bucket}/tenant-a/docs/notes.md"}

    answer = run(
        event("extract", "document-extractor", EXTRACT, {"start": {"file": file}}),
        executions,
        integrations(uploads_bucket=bucket),
    )

    assert answer["outputs"]["text"] == "# Notes"


def test_given_a_file_answer_then_it_is_stored_and_a_document_extractor_reads_it(
    bucket, executions
):
    with LocalHttpServer() as server:
        server.route(
            "GET",
            "/report",
            Reply(
                200,
                pdf_with_lines("Downloaded report"),
                {
                    "Content-Type": "application/pdf",
                    "Content-Disposition": 'attachment; filename="q3.pdf"',
                },
            ),
        )
        wired = integrations(uploads_bucket=bucket, guard=AddressGuard(exempt=["127.0.0.1/32"]))
        fetched = run(
            event("download", "http-request", {"method": "get", "url": server.url("/report")}, {}),
            executions,
            wired,
        )

    outputs = fetched["outputs"]
    assert (outputs["status_code"], outputs["body"]) == (200, "")
    [file] = outputs["files"]
    assert (file["filename"], file["extension"], file["mime_type"], file["type"]) == (
        "q3.pdf",
        ".pdf",
        "application/pdf",
        "document",
    )
    extracted = run(
        event("extract", "document-extractor", EXTRACT, {"start": {"file": file}}),
        executions,
        wired,
    )
    assert extracted["outputs"] == {"text": "Downloaded report"}


def test_given_an_api_key_by_reference_then_the_secret_is_sent_not_the_reference(executions):
    boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name="signoff/http/partner", SecretString="partner-secret-key"
    )
    with LocalHttpServer() as server:
        server.route("GET", "/private", Reply(200, "ok"))
        wired = integrations(
            guard=AddressGuard(exempt=["127.0.0.1/32"]),
            credentials=CredentialResolver(
                secrets_client=boto3.client("secretsmanager", region_name=REGION)
            ),
        )
        config = {
            "url": server.url("/private"),
            "authorization": {
                "type": "api-key",
                "config": {"type": "bearer", "api_key": "secretsmanager:signoff/http/partner"},
            },
        }

        answer = run(event("call", "http-request", config, {}), executions, wired)

        assert answer["outputs"]["body"] == "ok"
        assert server.received[0].headers["authorization"] == "Bearer partner-secret-key"
    [record] = executions.list_for_run("tenant-a", "run-1")
    assert "partner-secret-key" not in json.dumps(record.model_dump())
