"""The HTTP front does what API Gateway does: routes, the TOKEN authorizer, proxy events,
gateway responses. In process (ASGI), against the toy stack's handlers."""

from __future__ import annotations

import json
import warnings

import pytest

with warnings.catch_warnings():
    # Starlette 1.x nudges toward httpx2 for its TestClient; httpx is what this project pins.
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from signoff.local.front import Front, gateway_response, match_route
from signoff.local.functions import FunctionRunner
from signoff.local.provision import plan_stack

GOOD = {"Authorization": "Bearer sk_good_key"}


@pytest.fixture
def front(toy_template) -> Front:
    plan = plan_stack(toy_template)
    return Front(plan, FunctionRunner(plan.functions))


@pytest.fixture
def client(front: Front) -> TestClient:
    return TestClient(front.app)


def event_of(response) -> dict:
    return response.json()["event"]


def test_given_paths_then_literal_segments_win_over_parameters_and_greedy_paths(front):
    api = front.api

    assert match_route(api, "GET", "/health").resource == "/health"
    item = match_route(api, "GET", "/items/42")
    assert (item.resource, item.path_parameters) == ("/items/{item_id}", {"item_id": "42"})
    deep = match_route(api, "DELETE", "/items/42/notes")
    assert (deep.resource, deep.path_parameters) == ("/{proxy+}", {"proxy": "items/42/notes"})
    # A greedy parameter needs at least one segment; a resource without the method is no match.
    assert match_route(api, "GET", "/") is None
    assert match_route(api, "POST", "/health") is None


def test_given_an_open_route_when_called_then_the_api_function_gets_a_proxy_event(client):
    response = client.get("/health?a=1&a=2&b=3", headers={"X-Trace": "t1"})

    assert response.status_code == 200
    event = event_of(response)
    assert (event["resource"], event["path"], event["httpMethod"]) == ("/health", "/health", "GET")
    assert event["queryStringParameters"] == {"a": "2", "b": "3"}
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"], "b": ["3"]}
    assert event["headers"]["X-Trace"] == "t1"
    assert event["multiValueHeaders"]["X-Trace"] == ["t1"]
    assert event["pathParameters"] is None
    assert event["body"] is None and event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["resourcePath"] == "/health"
    assert context["stage"] == "test"
    assert context["path"] == "/test/health"
    assert context["identity"]["sourceIp"]
    assert context["requestTimeEpoch"] > 0
    assert "authorizer" not in context
    assert response.headers["x-amzn-requestid"] == context["requestId"]
    assert response.json()["web_only"] == "yes"


def test_given_a_good_key_then_the_authorizer_context_reaches_the_function_as_strings(client):
    response = client.get("/items/42", headers=GOOD)

    assert response.status_code == 200
    event = event_of(response)
    assert event["pathParameters"] == {"item_id": "42"}
    assert event["requestContext"]["authorizer"] == {
        "tenant_id": "t1",
        "key_id": "key_1",
        "admin": "true",
        "weight": "2",
        "principalId": "key_1",
    }


def test_given_a_policy_for_one_method_arn_then_only_that_request_passes(client):
    # The authorizer allows exactly arn:...:<api>/test/GET/items/7.
    narrow = {"Authorization": "Bearer narrow"}

    assert client.get("/items/7", headers=narrow).status_code == 200
    assert client.get("/items/8", headers=narrow).status_code == 403


def test_given_a_body_then_it_reaches_the_function_as_text_or_base64(client):
    text = client.post("/notes", headers=GOOD, content=b'{"x": 1}')
    binary = client.post("/notes", headers=GOOD, content=b"\xff\xfe")

    assert event_of(text)["body"] == '{"x": 1}'
    assert event_of(binary)["isBase64Encoded"] is True
    assert event_of(binary)["body"] == "//4="


def test_given_the_functions_proxy_response_then_status_and_headers_are_kept(client):
    response = client.get("/teapot", headers=GOOD)

    assert response.status_code == 418
    assert response.headers["x-single"] == "one"
    assert response.headers.get_list("set-cookie") == ["a=1", "b=2"]


def test_given_no_authorization_header_then_401_from_the_templates_response(client):
    response = client.get("/items/1")

    assert response.status_code == 401
    assert response.json() == {"code": "unauthorized", "message": "Unauthorized"}


def test_given_an_unknown_key_then_the_authorizers_unauthorized_becomes_401(client):
    response = client.get("/items/1", headers={"Authorization": "Bearer nope"})

    assert response.status_code == 401


def test_given_a_deny_policy_then_403_access_denied_through_default_4xx(client):
    response = client.get("/items/1", headers={"Authorization": "Bearer deny"})

    assert response.status_code == 403
    assert response.json()["code"] == "ACCESS_DENIED"
    assert response.headers["x-gateway"] == "toy"


def test_given_an_authorizer_that_crashes_then_500_as_api_gateway_answers(client):
    response = client.get("/items/1", headers={"Authorization": "Bearer crash"})

    assert response.status_code == 500
    assert response.json() == {"message": None}


def test_given_an_authorizer_context_with_nested_values_then_500(client):
    response = client.get("/items/1", headers={"Authorization": "Bearer nested"})

    assert response.status_code == 500


def test_given_no_route_then_403_missing_authentication_token(client):
    response = client.get("/")

    assert response.status_code == 403
    assert response.json() == {
        "code": "MISSING_AUTHENTICATION_TOKEN",
        "message": "Missing Authentication Token",
    }


def test_given_an_api_function_that_crashes_or_answers_garbage_then_502(client):
    for path in ("/explode", "/malformed"):
        response = client.get(path, headers=GOOD)

        assert response.status_code == 502
        assert response.json() == {"message": "Internal server error"}


def test_given_the_real_templates_gateway_responses_then_every_body_is_json():
    plan = plan_stack()
    api = plan.api()

    for response_type in (
        "MISSING_AUTHENTICATION_TOKEN",
        "UNAUTHORIZED",
        "ACCESS_DENIED",
        "AUTHORIZER_FAILURE",
        "INTEGRATION_FAILURE",
    ):
        response = gateway_response(api, response_type, "req-1")
        body = json.loads(response.body)
        assert body["message"], response_type
