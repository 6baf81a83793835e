"""The local cloud's speed-ups of moto (signoff/local/moto_patches.py): what moto rebuilt on every
request or event is built once. Each keeps moto's answers; these fail loudly when moto changes
where it looks them up. Pinned: moto==5.2.5."""

from __future__ import annotations

import inspect
import json

import boto3
import jsonpath_ng.ext
import pytest
from moto import backends as moto_backends
from moto.core import responses as moto_responses
from moto.dynamodb.responses import DynamoHandler
from moto.events.utils import EventTemplateParser
from moto.moto_server import werkzeug_app

from signoff.local import moto_patches

pytestmark = pytest.mark.integration


def _source(function: object) -> str:
    return " ".join(inspect.getsource(function).split())  # type: ignore[arg-type]


def test_moto_still_looks_up_what_the_speedups_replace_where_they_replace_it():
    # Given the patches applied
    moto_patches.apply_patches()

    # Then moto still finds each through the module attribute that was replaced
    assert "from jsonpath_ng.ext import parse" in _source(EventTemplateParser.parse)
    assert jsonpath_ng.ext.parse is moto_patches.parse_jsonpath_once
    assert "backends.list_of_moto_modules()" in _source(
        werkzeug_app.DomainDispatcherApplication.get_backend_for_host
    )
    assert moto_backends.list_of_moto_modules is moto_patches.moto_service_modules
    assert "method_names_from_class(self.__class__)" in _source(
        moto_responses.BaseResponse.call_action
    )
    assert moto_responses.method_names_from_class is moto_patches.method_names_of


def test_the_remembered_lists_are_the_ones_moto_builds():
    assert moto_patches.moto_service_modules() == tuple(moto_patches._list_of_moto_modules())
    assert "dynamodb" in moto_patches.moto_service_modules()
    assert moto_patches.method_names_of(DynamoHandler) == tuple(
        moto_patches._method_names_from_class(DynamoHandler)
    )


def test_a_remembered_path_finds_what_a_fresh_parse_finds():
    document = {"detail": {"run_id": "r-1", "items": [1, 2]}, "source": "signoff"}
    for path in ("$.detail.run_id", "$.detail.items", "$.source", "$.missing"):
        remembered = [m.value for m in moto_patches.parse_jsonpath_once(path).find(document)]
        fresh = [m.value for m in moto_patches._parse_jsonpath(path).find(document)]
        assert remembered == fresh
    assert moto_patches.parse_jsonpath_once("$.source") is moto_patches.parse_jsonpath_once(
        "$.source"
    )


def test_given_rules_delivering_to_queues_then_events_arrive_as_before_and_paths_parse_once(aws):
    # Given a bus whose rule sends every event to one queue as it is and to another transformed
    events, sqs = boto3.client("events"), boto3.client("sqs")
    events.create_event_bus(Name="bus")
    plain = sqs.create_queue(QueueName="plain")["QueueUrl"]
    shaped = sqs.create_queue(QueueName="shaped")["QueueUrl"]
    arn = {
        url: sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        for url in (plain, shaped)
    }
    events.put_rule(Name="all", EventBusName="bus", EventPattern=json.dumps({"source": ["app"]}))
    events.put_targets(
        Rule="all",
        EventBusName="bus",
        Targets=[
            {"Id": "plain", "Arn": arn[plain]},
            {
                "Id": "shaped",
                "Arn": arn[shaped],
                "InputTransformer": {
                    "InputPathsMap": {"run": "$.detail.run_id", "type": "$.detail-type"},
                    "InputTemplate": '{"run": "<run>", "type": "<type>"}',
                },
            },
        ],
    )
    moto_patches.parse_jsonpath_once.cache_clear()

    # When three events are put
    for n in range(3):
        events.put_events(
            Entries=[
                {
                    "Source": "app",
                    "DetailType": f"type-{n}",
                    "Detail": json.dumps({"run_id": f"run-{n}"}),
                    "EventBusName": "bus",
                }
            ]
        )

    # Then each queue got each event, shaped as before
    def bodies(url: str) -> list[dict]:
        received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
        return sorted((json.loads(m["Body"]) for m in received), key=json.dumps)

    assert bodies(shaped) == [{"run": f"run-{n}", "type": f"type-{n}"} for n in range(3)]
    delivered = bodies(plain)
    assert sorted(d["detail"]["run_id"] for d in delivered) == ["run-0", "run-1", "run-2"]
    assert {d["source"] for d in delivered} == {"app"}
    # and each path was parsed once, not once per event
    info = moto_patches.parse_jsonpath_once.cache_info()
    paths = {*EventTemplateParser.DEFAULT_EVENT_INPUT_PATHS_MAP.values(), "$.detail.run_id"}
    assert info.misses == len(paths)
    per_event = len(EventTemplateParser.DEFAULT_EVENT_INPUT_PATHS_MAP) + 2
    assert info.hits + info.misses == 3 * per_event
