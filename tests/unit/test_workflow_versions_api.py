"""The parts of the workflow version routes that need no AWS: If-Match and YAML request routing."""

from __future__ import annotations

import json

import pytest
import yaml

from signoff.api.routes.workflows import expected_version
from signoff.api.yaml_workflows import is_yaml_workflow_request, yaml_workflow_as_json
from signoff.errors import InvalidInput
from tests.support.workflows import greeter


@pytest.mark.parametrize(
    ("header", "version"),
    [(None, None), ("", None), ("*", None), ('"3"', 3), ("3", 3), ('W/"12"', 12), (' "1" ', 1)],
)
def test_given_an_if_match_header_then_the_version_it_names(header, version):
    assert expected_version(header) == version


@pytest.mark.parametrize("header", ['"0"', '"-1"', "soon", '"1.5"', '"99999999999"'])
def test_given_an_if_match_that_names_no_version_then_invalid_input_naming_it(header):
    with pytest.raises(InvalidInput) as refusal:
        expected_version(header)

    assert refusal.value.field == "If-Match"


def event(method: str, path: str, body: str, **query: str) -> dict:
    return {
        "httpMethod": method,
        "path": path,
        "headers": {"Content-Type": "application/yaml"},
        "multiValueHeaders": {"Content-Type": ["application/yaml"]},
        "queryStringParameters": query or None,
        "requestContext": {"stage": "dev"},
        "body": body,
        "isBase64Encoded": False,
    }


@pytest.mark.parametrize(
    ("method", "path", "routed"),
    [
        ("POST", "/workflows", True),
        ("PUT", "/workflows/greeter", True),
        ("PUT", "/dev/workflows/greeter", True),
        ("PUT", "/workflows", False),
        ("PUT", "/workflows/greeter/versions", False),
        ("POST", "/workflows/greeter", False),
        ("GET", "/workflows/greeter", False),
    ],
)
def test_given_a_yaml_body_then_only_create_and_update_read_it(method, path, routed):
    assert is_yaml_workflow_request(event(method, path, "name: x")) is routed


def test_given_a_yaml_update_then_the_json_request_it_stands_for_without_the_query_id():
    document = greeter()
    document.pop("id")

    converted = yaml_workflow_as_json(
        event("PUT", "/workflows/greeter", yaml.safe_dump(document), id="elsewhere")
    )

    assert json.loads(converted["body"]) == document
    assert converted["headers"]["Content-Type"] == "application/json"
