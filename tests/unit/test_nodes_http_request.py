"""http-request against a local HTTP server (loopback exempted from the address guard for the
test), and its refusals of private and metadata addresses (refused before anything is sent)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest

from signoff.graph.model import parse_node
from signoff.net import AddressGuard, AddressNotAllowed
from signoff.nodes import http_request
from signoff.nodes.context import NodeContext
from signoff.nodes.errors import HttpRequestFailed, InvalidHttpRequest, VariableNotFound
from signoff.nodes.event import RunContext
from signoff.nodes.integrations import Integrations
from signoff.nodes.variables import VariableScope
from tests.support.local_http import LocalHttpServer, Reply, echo

RUN = RunContext(run_id="run-1", tenant_id="tenant-a", workflow_id="wf", user="ada")
VARIABLES = {"start": {"city": "Paris", "id": 7, "token": "tok-123"}, "prev": {"items": [1, 2]}}


@pytest.fixture
def server() -> Iterator[LocalHttpServer]:
    with LocalHttpServer() as running:
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"):
            running.route(method, "/echo", echo)
        yield running


def context(guard: AddressGuard | None = None) -> NodeContext:
    return NodeContext(
        run=RUN,
        attempt=1,
        code_runner=None,  # type: ignore[arg-type]
        integrations=Integrations(guard=guard or AddressGuard(exempt=["127.0.0.1/32"])),
    )


def send(fields: dict[str, Any], guard: AddressGuard | None = None) -> dict[str, Any]:
    node = parse_node({"id": "call", "type": "http-request", **fields})
    inputs = http_request.inputs(node, VariableScope(VARIABLES, RUN.model_dump()))
    return http_request.run(node, inputs, context(guard))


def sent(server: LocalHttpServer) -> dict[str, Any]:
    [request] = server.received
    return {"method": request.method, "query": request.query, "headers": request.headers}


def test_given_templates_in_url_params_and_headers_when_sent_then_they_are_rendered(server):
    outputs = send(
        {
            "method": "GET",
            "url": server.url("/echo") + "?city={{#start.city#}}",
            "params": "id:{{#start.id#}}\nlang: en",
            "headers": "X-Trace: run-{{#sys.run_id#}}\nAccept:application/json",
        }
    )

    assert outputs["status_code"] == 200
    assert outputs["files"] == []
    assert outputs["headers"]["content-type"] == "application/json"
    echoed = json.loads(outputs["body"])
    assert echoed["query"] == [["city", "Paris"], ["id", "7"], ["lang", "en"]]
    assert echoed["headers"]["x-trace"] == "run-run-1"
    assert echoed["headers"]["accept"] == "application/json"


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete", "options"])
def test_given_each_method_when_sent_then_the_server_sees_it(server, method):
    send({"method": method, "url": server.url("/echo")})

    assert sent(server)["method"] == method.upper()


def test_given_head_when_sent_then_the_body_is_empty(server):
    outputs = send({"method": "head", "url": server.url("/echo")})

    assert (outputs["status_code"], outputs["body"]) == (200, "")


def test_given_a_json_body_with_references_when_sent_then_it_is_json(server):
    body = {"type": "json", "data": [{"type": "text", "value": '{"city": "{{#start.city#}}"}'}]}

    send({"method": "post", "url": server.url("/echo"), "body": body})

    [request] = server.received
    assert request.json() == {"city": "Paris"}
    assert request.headers["content-type"] == "application/json"


def test_given_a_json_body_that_is_not_json_when_sent_then_the_request_is_invalid(server):
    body = {"type": "json", "data": [{"type": "text", "value": "{not json"}]}

    with pytest.raises(InvalidHttpRequest, match="not valid JSON"):
        send({"method": "post", "url": server.url("/echo"), "body": body})

    assert server.received == []


def test_given_a_raw_text_body_when_sent_then_it_is_sent_as_is(server):
    body = {"type": "raw-text", "data": [{"type": "text", "value": "hi {{#start.city#}}"}]}

    send({"method": "post", "url": server.url("/echo"), "body": body})

    [request] = server.received
    assert request.body == b"hi Paris"
    assert request.headers["content-type"].startswith("text/plain")


def test_given_an_older_export_with_a_string_body_when_sent_then_it_is_the_content(server):
    body = {"type": "raw-text", "data": "plain {{#start.id#}}"}

    send({"method": "post", "url": server.url("/echo"), "body": body})

    assert server.received[0].body == b"plain 7"


def test_given_a_form_urlencoded_body_when_sent_then_fields_are_encoded(server):
    body = {
        "type": "x-www-form-urlencoded",
        "data": [
            {"key": "city", "type": "text", "value": "{{#start.city#}}"},
            {"key": "q", "type": "text", "value": "a b&c"},
        ],
    }

    send({"method": "post", "url": server.url("/echo"), "body": body})

    [request] = server.received
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.body == b"city=Paris&q=a+b%26c"


def test_given_form_data_with_text_fields_when_sent_then_it_is_multipart(server):
    body = {
        "type": "form-data",
        "data": [{"key": "city", "type": "text", "value": "{{#start.city#}}"}],
    }

    send({"method": "post", "url": server.url("/echo"), "body": body})

    [request] = server.received
    assert request.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert b'name="city"\r\n\r\nParis\r\n' in request.body


def test_given_form_data_with_a_file_when_sent_then_the_file_is_a_part(server):
    server.route(
        "GET", "/files/report.txt", Reply(200, "file body", {"Content-Type": "text/plain"})
    )
    file = {
        "type": "document",
        "transfer_method": "remote_url",
        "url": server.url("/files/report.txt"),
    }
    VARIABLES["upload"] = {"file": file}
    body = {
        "type": "form-data",
        "data": [{"key": "doc", "type": "file", "file": ["upload", "file"]}],
    }
    try:
        send({"method": "post", "url": server.url("/echo"), "body": body})
    finally:
        del VARIABLES["upload"]

    posted = server.received[-1]
    assert b'name="doc"; filename="report.txt"' in posted.body
    assert b"file body" in posted.body


@pytest.mark.parametrize(
    ("config", "header", "expected"),
    [
        ({"type": "bearer", "api_key": "{{#start.token#}}"}, "authorization", "Bearer tok-123"),
        (
            {"type": "basic", "api_key": "ada:secret"},
            "authorization",
            "Basic " + base64.b64encode(b"ada:secret").decode(),
        ),
        (
            {"type": "basic", "api_key": "YWRhOnNlY3JldA=="},
            "authorization",
            "Basic YWRhOnNlY3JldA==",
        ),
        ({"type": "custom", "api_key": "k-1", "header": "X-Api-Key"}, "x-api-key", "k-1"),
    ],
)
def test_given_api_key_authorization_when_sent_then_the_key_is_in_its_header(
    server, config, header, expected
):
    send(
        {
            "url": server.url("/echo"),
            "headers": "Authorization: overridden",
            "authorization": {"type": "api-key", "config": config},
        }
    )

    assert sent(server)["headers"][header] == expected


def test_given_custom_authorization_without_a_header_when_sent_then_it_is_invalid(server):
    auth = {"type": "api-key", "config": {"type": "custom", "api_key": "k"}}

    with pytest.raises(InvalidHttpRequest, match="header"):
        send({"url": server.url("/echo"), "authorization": auth})


def test_given_an_error_status_when_sent_then_it_is_reported_not_raised(server):
    server.route("GET", "/missing", Reply(404, "not here"))

    outputs = send({"url": server.url("/missing")})

    assert (outputs["status_code"], outputs["body"]) == (404, "not here")


def test_given_a_slow_server_when_the_read_timeout_passes_then_the_request_fails(server):
    server.route("GET", "/slow", Reply(200, "late", delay_seconds=2))

    with pytest.raises(HttpRequestFailed, match="timed out"):
        send({"url": server.url("/slow"), "timeout": {"read": 0.3}})


def test_given_an_answer_over_the_text_limit_then_the_request_fails(server, monkeypatch):
    monkeypatch.setattr(http_request, "MAX_TEXT_BYTES", 1000)
    server.route("GET", "/big", Reply(200, "x" * 5000))

    with pytest.raises(HttpRequestFailed, match="more than the limit of 1000"):
        send({"url": server.url("/big")})


def test_given_a_binary_answer_and_no_bucket_then_the_body_is_its_text(server):
    server.route("GET", "/png", Reply(200, b"\x89PNG", {"Content-Type": "image/png"}))

    outputs = send({"url": server.url("/png")})

    assert outputs["files"] == []
    assert outputs["status_code"] == 200


def test_given_a_url_that_is_not_http_then_the_request_is_invalid():
    with pytest.raises(InvalidHttpRequest, match="http"):
        send({"url": "file:///etc/passwd"})


def test_given_a_reference_to_a_node_not_passed_then_the_variable_is_not_found():
    with pytest.raises(VariableNotFound):
        send({"url": "https://example.com/{{#other.path#}}"})


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "http://127.0.0.1:1/",
        "http://localhost:1/",
        "http://10.0.0.1/",
        "http://172.16.5.4/",
        "http://192.168.1.1/admin",
        "http://[::1]:1/",
        "http://[fe80::1]/",
    ],
)
def test_given_a_private_or_metadata_address_then_the_request_is_refused(url):
    with pytest.raises(AddressNotAllowed, match="refused"):
        send({"url": url}, guard=AddressGuard())


def test_given_the_deployment_allows_private_networks_then_loopback_is_reached(server):
    outputs = send({"url": server.url("/echo")}, guard=AddressGuard(allow_private_network=True))

    assert outputs["status_code"] == 200
