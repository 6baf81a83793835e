"""The GCRA limiter on DynamoDB: a burst, then the sustained rate, and a true Retry-After."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from signoff.local.provision import create_tables
from signoff.ratelimit import DEFAULT_PLANS, DynamoRateLimiter, RatePlan, resolve_plans

REGION = "us-east-1"


class Clock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Any]]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        yield create_tables(client)["RateLimitsTable"], client


def test_given_the_seed_plans_then_100_1000_and_5000_requests_a_minute():
    assert {name: plan.requests_per_minute for name, plan in DEFAULT_PLANS.items()} == {
        "free": 100,
        "pro": 1000,
        "enterprise": 5000,
    }


def test_given_an_override_then_it_replaces_its_plan_and_keeps_the_others():
    plans = resolve_plans({"free": RatePlan(requests_per_minute=10, burst=2)})

    assert plans["free"].requests_per_minute == 10
    assert plans["pro"] == DEFAULT_PLANS["pro"]


def test_given_a_burst_of_3_when_4_requests_arrive_at_once_then_the_4th_waits_one_interval(table):
    name, client = table
    clock = Clock()
    limiter = DynamoRateLimiter(name, client, clock=clock)
    plan = RatePlan(requests_per_minute=60, burst=3)  # one request a second

    decisions = [limiter.acquire("key#a", plan) for _ in range(4)]

    assert [decision.allowed for decision in decisions] == [True, True, True, False]
    assert decisions[3].retry_after == pytest.approx(1.0)
    assert decisions[3].retry_after_seconds == 1


def test_given_a_refusal_when_its_retry_after_has_passed_then_one_more_is_allowed(table):
    name, client = table
    clock = Clock()
    limiter = DynamoRateLimiter(name, client, clock=clock)
    plan = RatePlan(requests_per_minute=6, burst=1)  # one request every 10 seconds

    assert limiter.acquire("key#a", plan).allowed
    refused = limiter.acquire("key#a", plan)
    clock.now += refused.retry_after

    assert not refused.allowed
    assert refused.retry_after_seconds == 10
    assert limiter.acquire("key#a", plan).allowed
    assert not limiter.acquire("key#a", plan).allowed


def test_given_two_api_instances_then_they_share_one_bucket(table):
    name, client = table
    clock = Clock()
    first = DynamoRateLimiter(name, client, clock=clock)
    second = DynamoRateLimiter(name, client, clock=clock)
    plan = RatePlan(requests_per_minute=60, burst=2)

    outcomes = [
        first.acquire("tenant#t", plan).allowed,
        second.acquire("tenant#t", plan).allowed,
        first.acquire("tenant#t", plan).allowed,
        second.acquire("tenant#t", plan).allowed,
    ]

    assert outcomes == [True, True, False, False]


def test_given_an_idle_bucket_when_time_passes_then_the_whole_burst_is_back(table):
    name, client = table
    clock = Clock()
    limiter = DynamoRateLimiter(name, client, clock=clock)
    plan = RatePlan(requests_per_minute=60, burst=2)
    for _ in range(2):
        limiter.acquire("key#a", plan)

    clock.now += 60

    assert [limiter.acquire("key#a", plan).allowed for _ in range(3)] == [True, True, False]


def test_given_two_buckets_then_one_full_bucket_does_not_limit_the_other(table):
    name, client = table
    limiter = DynamoRateLimiter(name, client, clock=Clock())
    plan = RatePlan(requests_per_minute=60, burst=1)

    assert limiter.acquire("key#a", plan).allowed
    assert not limiter.acquire("key#a", plan).allowed
    assert limiter.acquire("key#b", plan).allowed


def test_given_a_bucket_then_it_carries_a_ttl_for_dynamodb_to_delete_it(table):
    name, client = table
    clock = Clock()
    DynamoRateLimiter(name, client, clock=clock).acquire(
        "key#a", RatePlan(requests_per_minute=60, burst=5)
    )

    item = client.get_item(TableName=name, Key={"bucket_id": {"S": "key#a"}})["Item"]

    assert float(item["tat"]["N"]) == pytest.approx(clock.now + 1)
    assert int(item["expires_at"]["N"]) > clock.now + 5
