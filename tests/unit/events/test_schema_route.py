"""GET /events/schema: the published schema, public, and part of the OpenAPI document."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from signoff.api.app import ApiServices, build_app
from signoff.settings import Settings

PUBLISHED = Path(__file__).resolve().parents[3] / "docs" / "events.schema.json"


def public_get(path: str) -> dict[str, Any]:
    """A request as API Gateway forwards it for a route with no authorizer."""
    return {
        "resource": path,
        "path": path,
        "httpMethod": "GET",
        "headers": {},
        "multiValueHeaders": {},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "path": f"/dev{path}",
            "stage": "dev",
            "requestId": "request-1",
            "resourcePath": path,
            "identity": {"sourceIp": "127.0.0.1"},
        },
        "body": None,
        "isBase64Encoded": False,
    }


@pytest.fixture(scope="module")
def app() -> APIGatewayRestResolver:
    # The route touches no AWS service: clients that are never called are enough.
    settings = Settings(
        workflows_table="workflows",
        runs_table="runs",
        node_executions_table="node-executions",
        state_machine_prefix="signoff-test",
        payloads_bucket="payloads",
    )
    services = ApiServices.from_settings(
        settings, dynamodb_client=object(), sfn_client=object(), s3_client=object()
    )
    return build_app(services)


def test_given_no_credentials_when_getting_the_event_schema_then_the_published_file(app):
    response = app.resolve(public_get("/events/schema"), {})

    assert response["statusCode"] == 200, response
    assert json.loads(response["body"]) == json.loads(PUBLISHED.read_text(encoding="utf-8"))


def test_the_openapi_document_lists_the_event_schema_route(app):
    document = json.loads(app.resolve(public_get("/openapi.json"), {})["body"])

    operation = document["paths"]["/events/schema"]["get"]
    assert operation["tags"] == ["events"]
    assert "200" in operation["responses"]
