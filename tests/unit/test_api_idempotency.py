"""Idempotency-Key on Powertools' idempotency utility: one action per key, its first answer."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from signoff.api.idempotency import IdempotentRequests, StoredResponse
from signoff.errors import (
    IdempotencyInProgress,
    IdempotencyKeyReused,
    InvalidInput,
    NotFound,
)
from signoff.local.provision import create_tables

REGION = "us-east-1"


class Starts:
    """The action: counts what it started, answers with the count."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> StoredResponse:
        self.count += 1
        return StoredResponse(201, {"run_id": f"run-{self.count}"})


@pytest.fixture
def requests_once(monkeypatch: pytest.MonkeyPatch) -> Iterator[IdempotentRequests]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        yield IdempotentRequests(create_tables(client)["IdempotencyTable"], client)


class LambdaContext:
    """What the idempotency utility reads of the function's context: its time left."""

    def get_remaining_time_in_millis(self) -> int:
        return 29_000


def start(requests_once, action, *, key="key-1", body=None, tenant="tenant-a"):
    return requests_once.run(
        tenant_id=tenant,
        operation="POST /workflows/{workflow_id}/runs",
        key=key,
        request={"workflow_id": "wf", "body": body or {"inputs": {"name": "Ada"}}},
        action=action,
        lambda_context=LambdaContext(),
    )


def test_given_the_same_key_and_body_then_the_first_answer_and_nothing_new(requests_once):
    starts = Starts()

    first = start(requests_once, starts)
    second = start(requests_once, starts)

    assert first == StoredResponse(201, {"run_id": "run-1"})
    assert second == StoredResponse(201, {"run_id": "run-1"}, replayed=True)
    assert starts.count == 1


def test_given_the_same_key_with_another_body_then_422_and_nothing_new(requests_once):
    starts = Starts()
    start(requests_once, starts)

    with pytest.raises(IdempotencyKeyReused):
        start(requests_once, starts, body={"inputs": {"name": "Bob"}})
    assert starts.count == 1


def test_given_no_key_then_every_request_acts(requests_once):
    starts = Starts()

    start(requests_once, starts, key=None)
    start(requests_once, starts, key=None)

    assert starts.count == 2


def test_given_two_tenants_using_one_key_then_each_gets_its_own_answer(requests_once):
    starts = Starts()

    start(requests_once, starts, tenant="tenant-a")
    answer = start(requests_once, starts, tenant="tenant-b")

    assert answer == StoredResponse(201, {"run_id": "run-2"})


def test_given_a_first_request_that_failed_then_the_key_may_be_used_again(requests_once):
    def fails() -> StoredResponse:
        raise NotFound("workflow wf not found")

    with pytest.raises(NotFound):
        start(requests_once, fails)
    starts = Starts()

    assert start(requests_once, starts).status == 201
    assert starts.count == 1


def test_given_a_key_whose_first_request_is_running_then_409(requests_once):
    running, release = threading.Event(), threading.Event()
    outcome: dict[str, object] = {}

    def slow() -> StoredResponse:
        running.set()
        release.wait(10)
        return StoredResponse(200, {"done": True})

    first = threading.Thread(target=lambda: outcome.update(first=start(requests_once, slow)))
    first.start()
    running.wait(10)
    try:
        with pytest.raises(IdempotencyInProgress):
            start(requests_once, Starts())
    finally:
        release.set()
        first.join(10)
    assert outcome["first"] == StoredResponse(200, {"done": True})


@pytest.mark.parametrize("key", ["", "has space", "x" * 256])
def test_given_a_malformed_key_then_400(requests_once, key):
    with pytest.raises(InvalidInput) as raised:
        start(requests_once, Starts(), key=key)

    assert raised.value.field == "Idempotency-Key"
