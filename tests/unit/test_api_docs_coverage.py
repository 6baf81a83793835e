"""/openapi.json covers every route API Gateway sends anywhere (template.yaml, every function's
Api events), the streaming function's included, each with a response schema."""

from __future__ import annotations

import json
from typing import Any

import pytest

from signoff.api.app import ApiServices, build_app
from signoff.local.provision import plan_stack
from signoff.settings import Settings
from tests.unit.test_api_docs import public_event

# Not routes of their own: the catch-all that hands every other path to the api function, and
# the documentation itself (the document and the page that shows it).
NOT_OPERATIONS = {
    ("ANY", "/{proxy+}"),
    ("GET", "/openapi.json"),
    ("GET", "/docs"),
    ("GET", "/docs/{asset+}"),
}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    settings = Settings(
        workflows_table="workflows",
        runs_table="runs",
        node_executions_table="node-executions",
        state_machine_prefix="signoff-test",
        payloads_bucket="payloads",
        run_events_table="run-events",
    )
    services = ApiServices.from_settings(
        settings, dynamodb_client=object(), sfn_client=object(), s3_client=object()
    )
    return json.loads(build_app(services).resolve(public_event("/openapi.json"), {})["body"])


def template_routes() -> list[tuple[str, str, str]]:
    return sorted(
        (route.method, route.path, route.function_logical_id)
        for route in plan_stack().api().routes
        if (route.method, route.path) not in NOT_OPERATIONS
    )


def test_given_the_template_then_the_streaming_function_routes_are_among_those_checked():
    streamed = {(method, path) for method, path, function in template_routes()}

    assert {("GET", "/runs/{run_id}/events"), ("GET", "/v1/workflow/{run_id}/events")} <= streamed


@pytest.mark.parametrize(("method", "path", "function"), template_routes())
def test_given_an_api_event_of_the_template_then_the_document_has_it_with_a_response_schema(
    document, method, path, function
):
    operation = document["paths"].get(path, {}).get(method.lower())

    assert operation is not None, f"{method} {path} ({function}) is not in /openapi.json"
    schemas = [
        media["schema"]
        for response in operation["responses"].values()
        for media in (response.get("content") or {}).values()
        if media.get("schema")
    ]
    assert schemas, f"{method} {path} documents no response schema"


@pytest.mark.parametrize("path", ["/runs/{run_id}/events", "/v1/workflow/{run_id}/events"])
def test_given_a_streaming_route_then_it_documents_its_resume_parameters_and_its_sse_answer(
    document, path
):
    operation = document["paths"][path]["get"]

    parameters = {
        (parameter["in"], parameter["name"].lower()) for parameter in operation["parameters"]
    }
    assert {
        ("path", "run_id"),
        ("header", "last-event-id"),
        ("query", "last_event_id"),
        ("query", "continue_on_pause"),
    } <= parameters
    stream = operation["responses"]["200"]["content"]["text/event-stream"]["schema"]
    assert stream["type"] == "string"
    assert "id: <sequence>" in stream["description"]
    assert {"400", "401", "403", "404", "429"} <= set(operation["responses"])
    assert "security" not in operation  # the document's default: the API key


def test_given_the_upload_route_then_its_multipart_form_is_its_request_body(document):
    body = document["paths"]["/v1/files/upload"]["post"]["requestBody"]

    form = body["content"]["multipart/form-data"]["schema"]
    assert form["properties"]["file"] == {
        "type": "string",
        "format": "binary",
        "description": "The file's content",
    }
    assert form["properties"]["user"]["type"] == "string"
    assert set(form["required"]) == {"file", "user"}


def test_given_the_run_start_then_it_takes_json_or_agnos_form_and_answers_either(document):
    operation = document["paths"]["/workflows/{workflow_id}/runs"]["post"]

    content = operation["requestBody"]["content"]
    assert content["application/json"]["schema"]["$ref"].endswith("/StartRunRequest")
    assert content["multipart/form-data"]["schema"]["$ref"].endswith("/AgnoRunForm")
    form = document["components"]["schemas"]["AgnoRunForm"]
    assert set(form["properties"]) == {"message", "stream", "session_id", "user_id"}
    assert form["required"] == ["message"]
    answers = operation["responses"]["200"]["content"]
    assert {
        ref["$ref"].rsplit("/", 1)[1] for ref in answers["application/json"]["schema"]["anyOf"]
    } == {
        "RunView",
        "AgnoRunOutput",
    }
    assert answers["text/event-stream"]["schema"]["type"] == "string"
    assert "AgnoStepResult" in document["components"]["schemas"]
