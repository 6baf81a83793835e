"""Webhook payloads stay small: references and large values become links to the API."""

from __future__ import annotations

import json

from signoff.payloads import REF
from signoff.webhooks.shrinking import LINK, shrink_event

API = "https://api.example.com/dev"
REFERENCE = {
    REF: {"bucket": "payloads", "key": "t/r/outputs/x.json", "size": 90_000, "sha256": "a" * 64}
}


def envelope(event_type: str, data: dict) -> dict:
    return {
        "id": "evt_" + "0" * 32,
        "type": event_type,
        "time": "2025-01-01T00:00:00.000Z",
        "tenant": "t",
        "workflow_id": "w",
        "run_id": "run-1",
        "node_id": None,
        "sequence": 3,
        "data": data,
        "version": "1",
    }


def size(value) -> int:
    return len(json.dumps(value, separators=(",", ":")).encode())


def test_given_a_small_event_then_it_is_sent_as_it_is():
    event = envelope("run.succeeded", {"status": "succeeded", "outputs": {"greeting": "hi"}})

    assert shrink_event(event, api_url=API, max_bytes=4096) == event


def test_given_a_payload_reference_then_it_becomes_a_link_never_the_reference():
    event = envelope("run.succeeded", {"outputs": {"report": REFERENCE, "ok": True}})

    shrunk = shrink_event(event, api_url=API, max_bytes=4096)

    assert shrunk["data"]["outputs"] == {
        "report": {LINK: {"href": f"{API}/runs/run-1", "size": 90_000}},
        "ok": True,
    }
    assert REF not in json.dumps(shrunk)


def test_given_a_large_output_then_the_largest_inner_value_becomes_a_link_and_the_rest_stays():
    event = envelope(
        "node.succeeded",
        {"node_type": "llm", "outputs": {"text": "x" * 20_000, "tokens": 12}, "status": "ok"},
    )

    shrunk = shrink_event(event, api_url=API, max_bytes=2048)

    assert size(shrunk) <= 2048
    assert shrunk["data"]["outputs"]["text"] == {
        LINK: {"href": f"{API}/runs/run-1/nodes", "size": 20_002}
    }
    assert shrunk["data"]["outputs"]["tokens"] == 12
    assert shrunk["data"]["node_type"] == "llm"
    assert event["data"]["outputs"]["text"] == "x" * 20_000  # the original is left alone


def test_given_many_small_values_over_the_limit_then_data_is_one_link():
    event = envelope("review.requested", {f"k{n}": "v" * 40 for n in range(400)})

    shrunk = shrink_event(event, api_url=API, max_bytes=1024)

    assert size(shrunk) <= 1024
    assert shrunk["data"][LINK]["href"] == f"{API}/runs/run-1/reviews"
    assert {key for key in shrunk if key != "data"} == {key for key in event if key != "data"}


def test_given_no_api_url_then_links_are_api_paths():
    event = envelope("run.failed", {"outputs": REFERENCE})

    assert shrink_event(event, api_url=None)["data"]["outputs"][LINK]["href"] == "/runs/run-1"
