"""/health, /openapi.json and /docs: public, and the docs work with no network."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from aws_lambda_powertools.event_handler import APIGatewayRestResolver

import signoff
from signoff.api.app import ApiServices, build_app
from signoff.settings import Settings


def public_event(path: str, *, stage_in_path: bool = True) -> dict[str, Any]:
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
            "accountId": "123456789012",
            "apiId": "abc123def4",
            "httpMethod": "GET",
            "path": f"/dev{path}" if stage_in_path else path,
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
    # These routes touch no AWS service: clients that are never called are enough.
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


def get(app: APIGatewayRestResolver, path: str, **kwargs: Any) -> dict[str, Any]:
    return app.resolve(public_event(path, **kwargs), {})


def header(response: dict[str, Any], name: str) -> str:
    headers = {key.lower(): value for key, value in (response.get("headers") or {}).items()}
    multi = {key.lower(): value for key, value in (response.get("multiValueHeaders") or {}).items()}
    return headers.get(name) or (multi.get(name) or [""])[0]


def test_given_no_credentials_when_checking_health_then_ok_with_the_version(app):
    response = get(app, "/health")

    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == {"status": "ok", "version": signoff.__version__}


def test_given_the_openapi_document_then_it_describes_every_route_with_schemas(app):
    response = get(app, "/openapi.json")

    assert response["statusCode"] == 200
    document = json.loads(response["body"])
    assert document["openapi"].startswith("3.1")
    assert document["info"]["title"] == "signoff"
    assert document["servers"] == [{"url": "/dev"}]
    paths = document["paths"]
    assert set(paths) >= {
        "/health",
        "/workflows",
        "/workflows/{workflow_id}",
        "/workflows/{workflow_id}/runs",
        "/runs",
        "/runs/{run_id}",
        "/runs/{run_id}/nodes",
    }
    assert not any(path.startswith("/docs") for path in paths)
    schemas = document["components"]["schemas"]
    assert {
        "WorkflowDocument",
        "WorkflowCreated",
        "StartRunRequest",
        "RunView",
        "ErrorBody",
    } <= set(schemas)
    start = paths["/workflows/{workflow_id}/runs"]["post"]
    assert start["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/StartRunRequest"
    )
    assert {"200", "202", "400", "404"} <= set(start["responses"])
    assert document["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"


def test_given_the_openapi_document_then_errors_are_documented_as_the_api_answers_them(app):
    document = json.loads(get(app, "/openapi.json")["body"])

    text = json.dumps(document)
    for reference in set(re.findall(r'"\$ref": "#/components/schemas/([^"]+)"', text)):
        assert reference in document["components"]["schemas"], reference
    for operations in document["paths"].values():
        for operation in operations.values():
            # Validation failures answer 400; a 422 is only one the API itself gives.
            assert "HTTPValidationError" not in json.dumps(operation["responses"])
            if operation.get("security") != []:
                assert operation["responses"]["429"]["description"]
    runs = document["paths"]["/workflows/{workflow_id}/runs"]["post"]
    assert "Idempotency-Key" in runs["responses"]["422"]["description"]
    create = document["paths"]["/workflows"]["post"]
    assert create["responses"]["400"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/ErrorBody"
    )
    assert document["paths"]["/health"]["get"]["security"] == []
    assert "security" not in document["paths"]["/workflows"]["get"]
    assert document["security"] == [{"apiKey": []}]


def test_given_the_docs_page_asking_for_its_spec_then_the_same_document(app):
    event = public_event("/docs")
    event["queryStringParameters"] = {"format": "json"}

    response = app.resolve(event, {})

    assert json.loads(response["body"]) == json.loads(get(app, "/openapi.json")["body"])


def test_given_a_custom_domain_without_stage_then_the_server_is_the_root(app):
    document = json.loads(get(app, "/openapi.json", stage_in_path=False)["body"])

    assert document["servers"] == [{"url": "/"}]


def test_given_the_docs_page_then_it_loads_its_assets_from_the_api_itself(app):
    response = get(app, "/docs")

    assert response["statusCode"] == 200
    assert header(response, "content-type").startswith("text/html")
    page = response["body"]
    assert "src='docs/swagger-ui-bundle.min.js'" in page
    assert "href='docs/swagger-ui.min.css'" in page
    assert "http://" not in page.split("<script>")[0]
    assert "https://" not in page.split("<script>")[0]


@pytest.mark.parametrize(
    ("asset", "media_type"),
    [("swagger-ui-bundle.min.js", "text/javascript"), ("swagger-ui.min.css", "text/css")],
)
def test_given_each_asset_the_page_loads_then_it_is_served(app, asset, media_type):
    response = get(app, f"/docs/{asset}")

    assert response["statusCode"] == 200
    assert header(response, "content-type").startswith(media_type)
    assert len(response["body"]) > 10_000


def test_given_the_served_swagger_ui_then_it_renders_openapi_3_1(app):
    # Swagger UI learned OpenAPI 3.1 in version 5; version 4 refuses the documents we serve.
    script = get(app, "/docs/swagger-ui-bundle.min.js")["body"]

    assert "isOAS31" in script


def test_given_an_unknown_asset_then_404(app):
    response = get(app, "/docs/secrets.txt")

    assert response["statusCode"] == 404
    assert json.loads(response["body"])["code"] == "not_found"
