"""The one exception mapping: every failure answers `{status, code, message}` and no trace."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from pydantic import BaseModel

from signoff.api.errors import register_error_handlers
from signoff.api.principal import CurrentPrincipal
from signoff.errors import (
    ConfigurationError,
    Conflict,
    Forbidden,
    GraphInvalid,
    InvalidInput,
    Issue,
    NotFound,
    Unauthorized,
)
from signoff.runs.service import RunStartFailed


class Greeting(BaseModel):
    name: str
    times: int = 1


def proxy_event(
    method: str,
    path: str,
    *,
    body: str | None = None,
    tenant_id: str | None = "tenant-a",
    content_type: str = "application/json",
) -> dict[str, Any]:
    authorizer = {"tenant_id": tenant_id, "key_id": "key_1", "role": "admin"} if tenant_id else None
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": {"Content-Type": content_type},
        "multiValueHeaders": {"Content-Type": [content_type]},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123def4",
            "httpMethod": method,
            "path": f"/dev{path}",
            "stage": "dev",
            "requestId": "request-1",
            "resourcePath": path,
            "identity": {"sourceIp": "127.0.0.1"},
            "authorizer": authorizer,
        },
        "body": body,
        "isBase64Encoded": False,
    }


@pytest.fixture
def app() -> APIGatewayRestResolver:
    app = APIGatewayRestResolver(enable_validation=True)
    register_error_handlers(app)
    raising = {
        "not-found": NotFound("workflow w not found"),
        "conflict": Conflict("workflow w already exists"),
        "unauthorized": Unauthorized("no key"),
        "forbidden": Forbidden("not yours"),
        "invalid": InvalidInput("input n must be a number", field="inputs.n"),
        "graph": GraphInvalid(
            [
                Issue("unknown_node_type", "node x has an unknown type", node_id="x"),
                Issue("missing_end", "the graph has no end node"),
                Issue("dangling_edge", "edge e1 leads nowhere", edge_id="e1"),
            ]
        ),
        "config": ConfigurationError("setting runs_table is missing: set SIGNOFF_RUNS_TABLE"),
        "crash": RuntimeError("secret detail in /var/task/app.py"),
    }

    @app.get("/raise/<kind>")
    def raise_error(kind: str) -> dict[str, Any]:
        raise raising[kind]

    @app.post("/greetings")
    def greet(greeting: Greeting) -> dict[str, Any]:
        return greeting.model_dump()

    @app.get("/whoami")
    def whoami(principal: CurrentPrincipal) -> dict[str, Any]:
        return {"tenant_id": principal.tenant_id}

    return app


def call(app: APIGatewayRestResolver, event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = app.resolve(event, {})
    return response["statusCode"], json.loads(response["body"])


@pytest.mark.parametrize(
    ("kind", "status", "code", "error_code"),
    [
        ("not-found", 404, "not_found", 3000),
        ("conflict", 409, "conflict", 3001),
        ("unauthorized", 401, "unauthorized", 2000),
        ("forbidden", 403, "forbidden", 2001),
    ],
)
def test_given_a_domain_error_then_its_status_code_message_and_error_code(
    app, kind, status, code, error_code
):
    answered, body = call(app, proxy_event("GET", f"/raise/{kind}"))

    assert answered == status
    assert body["status"] == status
    assert body["code"] == code
    assert body["error_code"] == error_code
    assert body["message"]


def test_given_invalid_input_then_400_naming_the_field(app):
    status, body = call(app, proxy_event("GET", "/raise/invalid"))

    assert status == 400
    assert body == {
        "status": 400,
        "code": "invalid_input",
        "message": "input n must be a number",
        "error_code": 1000,
        "field": "inputs.n",
    }


def test_given_an_invalid_graph_then_400_listing_every_issue(app):
    status, body = call(app, proxy_event("GET", "/raise/graph"))

    assert status == 400
    assert body["code"] == "invalid_graph"
    assert body["issues"] == [
        {"code": "unknown_node_type", "message": "node x has an unknown type", "node_id": "x"},
        {"code": "missing_end", "message": "the graph has no end node", "node_id": None},
        {
            "code": "dangling_edge",
            "message": "edge e1 leads nowhere",
            "node_id": None,
            "edge_id": "e1",
        },
    ]


@pytest.mark.parametrize("kind", ["config", "crash"])
def test_given_a_server_failure_then_500_without_internals(app, kind):
    status, body = call(app, proxy_event("GET", f"/raise/{kind}"))

    assert status == 500
    assert body["status"] == 500
    assert body["code"] in {"internal_error", "configuration_error"}
    text = json.dumps(body)
    assert "Traceback" not in text
    assert "SIGNOFF_" not in text
    assert "/var/task" not in text


def test_given_a_body_missing_a_field_then_400_naming_it(app):
    status, body = call(app, proxy_event("POST", "/greetings", body=json.dumps({"times": 2})))

    assert status == 400
    assert body["code"] == "invalid_input"
    assert body["field"] == "name"
    assert "name" in body["message"]


def test_given_a_field_of_the_wrong_type_then_400_naming_it(app):
    status, body = call(
        app, proxy_event("POST", "/greetings", body=json.dumps({"name": "a", "times": "many"}))
    )

    assert status == 400
    assert body["field"] == "times"


def test_given_malformed_json_then_400_invalid_json(app):
    status, body = call(app, proxy_event("POST", "/greetings", body='{"name": "a",'))

    assert status == 400
    assert body["code"] == "invalid_json"


def test_given_a_body_that_is_not_json_then_415(app):
    status, body = call(
        app, proxy_event("POST", "/greetings", body="name=a", content_type="text/plain")
    )

    assert status == 415
    assert body["code"] == "unsupported_media_type"


def test_given_an_unknown_route_then_404_in_the_error_shape(app):
    status, body = call(app, proxy_event("GET", "/nowhere"))

    assert status == 404
    assert body["code"] == "not_found"


def test_given_no_authorizer_context_then_401(app):
    status, body = call(app, proxy_event("GET", "/whoami", tenant_id=None))

    assert status == 401
    assert body["code"] == "unauthorized"


def test_given_an_authorizer_context_then_the_route_acts_for_its_tenant(app):
    status, body = call(app, proxy_event("GET", "/whoami", tenant_id="tenant-b"))

    assert status == 200
    assert body == {"tenant_id": "tenant-b"}


def test_given_an_upstream_refusal_then_its_status_and_message_reach_the_client():
    app = APIGatewayRestResolver(enable_validation=True)
    register_error_handlers(app)

    @app.get("/start")
    def start() -> dict[str, Any]:
        raise RunStartFailed("run r-1 could not be started")

    status, body = call(app, proxy_event("GET", "/start"))

    assert status == 502
    assert body == {
        "status": 502,
        "code": "run_start_failed",
        "message": "run r-1 could not be started",
        "error_code": 4001,
    }
