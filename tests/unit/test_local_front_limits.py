"""The HTTP front enforces API Gateway's 10 MB payload limit and routes every path to the API."""

from __future__ import annotations

import warnings

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from signoff.local.front import PAYLOAD_LIMIT_BYTES, Front
from signoff.local.functions import FunctionRunner
from signoff.local.provision import plan_stack

GOOD = {"Authorization": "Bearer sk_good_key"}


@pytest.fixture
def client(toy_template) -> TestClient:
    plan = plan_stack(toy_template)
    return TestClient(Front(plan, FunctionRunner(plan.functions)).app)


def test_given_a_body_over_10_mb_then_413_before_the_authorizer_or_the_function(client):
    response = client.post(
        "/items/42/notes", content=b"x" * (PAYLOAD_LIMIT_BYTES + 1), headers={"X-Unknown": "no key"}
    )

    assert response.status_code == 413
    assert response.headers["x-amzn-errortype"]


def test_given_a_body_of_exactly_10_mb_then_it_reaches_the_function(client):
    response = client.post("/items/42/notes", content=b"x" * PAYLOAD_LIMIT_BYTES, headers=GOOD)

    assert response.status_code != 413


def test_given_a_path_starlette_cannot_match_then_the_gateway_still_answers(client):
    response = client.get("/items/a%0Ab", headers=GOOD)

    assert response.headers["content-type"].startswith("application/json")
    assert response.headers.get("x-amzn-requestid")
