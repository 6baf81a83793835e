"""The local cloud serves concurrent requests from one resolver: each must see its own event."""

from __future__ import annotations

import json
import threading
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.api_gateway import Router

from signoff.local.powertools_patches import make_router_state_per_thread

make_router_state_per_thread()


def _event(path: str) -> dict[str, Any]:
    return {
        "resource": path,
        "path": path,
        "httpMethod": "GET",
        "headers": {},
        "multiValueHeaders": {},
        "queryStringParameters": {"who": path},
        "multiValueQueryStringParameters": {"who": [path]},
        "pathParameters": None,
        "requestContext": {"resourcePath": path, "httpMethod": "GET", "path": path},
        "body": None,
        "isBase64Encoded": False,
    }


def _resolver(barrier: threading.Barrier) -> APIGatewayRestResolver:
    app = APIGatewayRestResolver()
    router = Router()

    def answer() -> dict[str, Any]:
        # Both requests are inside the resolver before either reads its own event.
        barrier.wait(timeout=10)
        return {
            "resolver_saw": app.current_event.path,
            "router_saw": router.current_event.get_query_string_value("who"),
            "route": app.context["_route"].path,
        }

    router.get("/a")(answer)
    router.get("/b")(answer)
    app.include_router(router)
    return app


def test_given_two_requests_in_flight_when_both_are_resolved_then_each_sees_its_own_event():
    barrier = threading.Barrier(2)
    app = _resolver(barrier)
    answers: dict[str, Any] = {}

    def call(path: str) -> None:
        response = app.resolve(_event(path), None)
        answers[path] = json.loads(response["body"])

    threads = [threading.Thread(target=call, args=(path,)) for path in ("/a", "/b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)

    assert answers == {
        "/a": {"resolver_saw": "/a", "router_saw": "/a", "route": "/a"},
        "/b": {"resolver_saw": "/b", "router_saw": "/b", "route": "/b"},
    }


def test_given_the_patch_applied_twice_then_a_single_request_still_resolves():
    make_router_state_per_thread()
    app = _resolver(threading.Barrier(1))
    response = app.resolve(_event("/a"), None)
    assert json.loads(response["body"])["resolver_saw"] == "/a"
