"""Webhooks in moto: subscriptions, fan-out and signed delivery to a receiver on localhost.

The deliveries queue is a real (moto) SQS queue with a RedrivePolicy; `drain` plays Lambda's SQS
event source: it receives messages, hands them to the delivery function's service through
Powertools' batch processor, and deletes the ones not reported failed. Retry delays are 0 s, so
a failed message is received again at once.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import httpx
import pytest
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from standardwebhooks import Webhook

from signoff.errors import InvalidInput, NotFound
from signoff.events.envelope import Event, new_event_id
from signoff.net import AddressGuard, guarded_client
from signoff.payloads import REF
from signoff.store import utc_now_iso
from signoff.store.webhooks import DynamoDeliveryRepository, DynamoWebhookRepository
from signoff.webhooks.delivery import WebhookDeliverer
from signoff.webhooks.fanout import WebhookFanout
from signoff.webhooks.retries import RetrySchedule
from signoff.webhooks.shrinking import LINK
from signoff.webhooks.subscriptions import WebhookService
from signoff.webhooks.urls import WebhookUrlPolicy
from tests.support.webhook_receiver import WebhookReceiver, always, failing_first

pytestmark = pytest.mark.integration

REGION = "us-east-1"
MAX_ATTEMPTS = 3
TENANT = "acme"


class Webhooks:
    """The webhook services on moto's tables and queues."""

    def __init__(self, tables: dict[str, str], *, max_payload_bytes: int = 16 * 1024) -> None:
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        self.sqs = boto3.client("sqs", region_name=REGION)
        self.dead_letters = self.sqs.create_queue(QueueName="deliveries-dlq")["QueueUrl"]
        dlq_arn = self.sqs.get_queue_attributes(
            QueueUrl=self.dead_letters, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        self.queue = self.sqs.create_queue(
            QueueName="deliveries",
            Attributes={
                "RedrivePolicy": json.dumps(
                    {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": MAX_ATTEMPTS}
                )
            },
        )["QueueUrl"]
        self.webhooks = DynamoWebhookRepository(tables["WebhooksTable"], dynamodb)
        self.deliveries = DynamoDeliveryRepository(tables["WebhookDeliveriesTable"], dynamodb)
        guard = AddressGuard(allow_private_network=True)
        self.service = WebhookService(self.webhooks, self.deliveries, WebhookUrlPolicy(guard))
        self.fanout = WebhookFanout(
            self.webhooks,
            self.deliveries,
            self.sqs,
            self.queue,
            api_url="https://api.example.com/dev",
            max_payload_bytes=max_payload_bytes,
        )
        self.http = guarded_client(guard, timeout=5, follow_redirects=False)
        self.deliverer = WebhookDeliverer(
            self.webhooks,
            self.deliveries,
            self.sqs,
            self.queue,
            self.http,
            schedule=RetrySchedule((0,), MAX_ATTEMPTS),
        )

    def subscribe(self, receiver: WebhookReceiver, events: list[str], tenant: str = TENANT):
        record = self.service.create(tenant, url=receiver.url, events=events)
        receiver.secret = record.secret
        return record

    def drain(self, *, rounds: int = 20) -> list[dict[str, Any]]:
        """Lambda's SQS event source, until the queue is empty; every batch's response."""
        responses = []
        for _ in range(rounds):
            messages = self.sqs.receive_message(
                QueueUrl=self.queue,
                MaxNumberOfMessages=10,
                AttributeNames=["All"],
                WaitTimeSeconds=0,
            ).get("Messages", [])
            if not messages:
                break
            event = {"Records": [_lambda_record(message) for message in messages]}
            processor = BatchProcessor(
                event_type=EventType.SQS, raise_on_entire_batch_failure=False
            )
            response = process_partial_response(
                event=event, record_handler=self.deliverer.handle_record, processor=processor
            )
            failed = {item["itemIdentifier"] for item in response["batchItemFailures"]}
            for message in messages:
                if message["MessageId"] not in failed:
                    self.sqs.delete_message(
                        QueueUrl=self.queue, ReceiptHandle=message["ReceiptHandle"]
                    )
            responses.append(response)
        return responses

    def dead_lettered(self) -> list[dict[str, Any]]:
        messages = self.sqs.receive_message(QueueUrl=self.dead_letters, MaxNumberOfMessages=10).get(
            "Messages", []
        )
        return [json.loads(message["Body"]) for message in messages]

    def close(self) -> None:
        self.http.close()


def _lambda_record(message: dict[str, Any]) -> dict[str, Any]:
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": {},
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:{REGION}:123456789012:deliveries",
        "awsRegion": REGION,
    }


def event(
    event_type: str, *, run_id: str = "run-1", sequence: int = 1, data: dict | None = None
) -> Event:
    return Event(
        id=new_event_id(),
        type=event_type,
        time=utc_now_iso(),
        tenant=TENANT,
        workflow_id="greeter",
        run_id=run_id,
        sequence=sequence,
        data=data or {"status": "running"},
    )


@pytest.fixture
def hooks(tables) -> Any:
    made = Webhooks(tables)
    try:
        yield made
    finally:
        made.close()


# ------------------------------------------------------------------------- delivery


def test_given_a_run_s_events_when_fanned_out_and_delivered_then_each_arrives_once_verified(
    hooks,
):
    with WebhookReceiver() as receiver:
        webhook = hooks.subscribe(receiver, ["run.*", "node.succeeded"])
        events = [
            event("run.started", sequence=1),
            event("node.started", sequence=2),  # not subscribed
            event("node.succeeded", sequence=3),
            event("run.succeeded", sequence=4),
        ]
        for each in events:
            hooks.fanout.fan_out(each)

        hooks.drain()

        expected = {each.id for each in events if each.type != "node.started"}
        assert set(receiver.dedup_log) == expected
        assert all(seen.verified for seen in receiver.received)
        assert len(receiver.received) == 3 and not receiver.duplicates
        assert receiver.dedup_log[events[3].id]["type"] == "run.succeeded"
        deliveries, _ = hooks.service.deliveries(TENANT, webhook.webhook_id)
        assert {d.event_id for d in deliveries} == expected
        assert all(d.status == "succeeded" and len(d.attempts) == 1 for d in deliveries)
        assert all(d.attempts[0].status_code == 200 for d in deliveries)


def test_given_a_receiver_failing_twice_then_the_same_webhook_id_comes_again_and_is_accepted(
    hooks,
):
    with WebhookReceiver(script=failing_first(2)) as receiver:
        webhook = hooks.subscribe(receiver, ["run.failed"])
        failed = event("run.failed")
        hooks.fanout.fan_out(failed)

        hooks.drain()

        attempts = receiver.attempts_of(failed.id)
        assert [seen.answered for seen in attempts] == [500, 500, 200]
        assert all(seen.verified for seen in attempts)
        assert len({seen.body for seen in attempts}) == 1  # the same payload every time
        assert list(receiver.dedup_log) == [failed.id]
        (delivery,) = hooks.service.deliveries(TENANT, webhook.webhook_id)[0]
        assert delivery.status == "succeeded"
        assert [a.status_code for a in delivery.attempts] == [500, 500, 200]
        assert [a.attempt for a in delivery.attempts] == [1, 2, 3]
        assert delivery.attempts[0].error == "the endpoint answered HTTP 500"


def test_given_a_receiver_always_failing_then_the_delivery_is_failed_and_dead_lettered(hooks):
    with WebhookReceiver(script=always(503)) as receiver:
        webhook = hooks.subscribe(receiver, ["*"])
        doomed = event("run.stopped")
        hooks.fanout.fan_out(doomed)

        hooks.drain()

        assert len(receiver.attempts_of(doomed.id)) == MAX_ATTEMPTS
        (delivery,) = hooks.service.deliveries(TENANT, webhook.webhook_id)[0]
        assert delivery.status == "failed"
        assert [a.status_code for a in delivery.attempts] == [503] * MAX_ATTEMPTS
        assert delivery.next_attempt_at is None
        (dead,) = hooks.dead_lettered()
        assert dead["event"]["id"] == doomed.id
        assert dead["webhook_id"] == webhook.webhook_id


def test_given_an_unreachable_endpoint_then_each_attempt_logs_the_connection_error(hooks):
    with WebhookReceiver() as receiver:
        webhook = hooks.subscribe(receiver, ["*"])
    # The receiver is stopped: nothing listens on its port any more.
    hooks.fanout.fan_out(event("run.started"))

    hooks.drain()

    (delivery,) = hooks.service.deliveries(TENANT, webhook.webhook_id)[0]
    assert delivery.status == "failed"
    assert all(a.status_code is None and "ConnectError" in a.error for a in delivery.attempts)


def test_given_410_gone_then_the_subscription_is_disabled_and_nothing_more_is_sent(hooks):
    with WebhookReceiver(script=always(410)) as receiver:
        webhook = hooks.subscribe(receiver, ["run.*"])
        hooks.fanout.fan_out(event("run.started"))
        hooks.drain()

        later = hooks.fanout.fan_out(event("run.succeeded", sequence=2))
        hooks.drain()

        assert len(receiver.received) == 1
        assert later == []
        disabled = hooks.service.get(TENANT, webhook.webhook_id)
        assert disabled.status == "disabled"
        assert "410" in (disabled.disabled_reason or "")
        (delivery,) = hooks.service.deliveries(TENANT, webhook.webhook_id)[0]
        assert delivery.status == "disabled"
        assert hooks.dead_lettered() == []


def test_given_a_duplicate_message_after_success_then_it_is_not_delivered_again(hooks):
    with WebhookReceiver() as receiver:
        hooks.subscribe(receiver, ["run.*"])
        (message,) = hooks.fanout.fan_out(event("run.started"))
        hooks.drain()
        hooks.sqs.send_message(QueueUrl=hooks.queue, MessageBody=message.model_dump_json())

        hooks.drain()

        assert len(receiver.received) == 1


def test_given_a_retried_fan_out_then_delivered_events_are_not_queued_again(hooks):
    with WebhookReceiver() as receiver:
        hooks.subscribe(receiver, ["run.*"])
        started = event("run.started")
        hooks.fanout.fan_out(started)
        hooks.drain()

        again = hooks.fanout.fan_out(started)

        assert again == []
        assert len(receiver.received) == 1


def test_given_a_rotated_secret_then_deliveries_verify_with_the_old_and_the_new_one(hooks):
    with WebhookReceiver() as receiver:
        webhook = hooks.subscribe(receiver, ["run.*"])
        old = webhook.secret
        rotated = hooks.service.rotate_secret(TENANT, webhook.webhook_id, grace_seconds=3600)
        receiver.secret = rotated.secret
        hooks.fanout.fan_out(event("run.started"))

        hooks.drain()

        (seen,) = receiver.received
        assert seen.verified
        headers = {
            "webhook-id": seen.webhook_id,
            "webhook-timestamp": seen.timestamp,
            "webhook-signature": seen.signature,
        }
        assert len(seen.signature.split(" ")) == 2
        assert Webhook(old).verify(seen.body, headers)


def test_given_a_rotation_without_grace_then_only_the_new_secret_signs(hooks):
    with WebhookReceiver() as receiver:
        webhook = hooks.subscribe(receiver, ["run.*"])
        rotated = hooks.service.rotate_secret(TENANT, webhook.webhook_id, grace_seconds=0)
        receiver.secret = webhook.secret  # the old one
        hooks.fanout.fan_out(event("run.started"))

        hooks.drain(rounds=1)

        assert not receiver.received[0].verified
        assert len(receiver.received[0].signature.split(" ")) == 1
        assert rotated.secret != webhook.secret


def test_given_a_large_output_then_the_delivery_carries_a_link_not_the_value(tables):
    hooks = Webhooks(tables, max_payload_bytes=2048)
    try:
        with WebhookReceiver() as receiver:
            hooks.subscribe(receiver, ["run.succeeded"])
            big = event(
                "run.succeeded",
                data={"status": "succeeded", "outputs": {"report": "x" * 50_000, "ok": True}},
            )
            referenced = event(
                "run.succeeded",
                run_id="run-2",
                data={
                    "outputs": {
                        "file": {REF: {"bucket": "b", "key": "k", "size": 9, "sha256": "0" * 64}}
                    }
                },
            )
            hooks.fanout.fan_out(big)
            hooks.fanout.fan_out(referenced)

            hooks.drain()

            first = receiver.dedup_log[big.id]["data"]["outputs"]
            assert first["report"] == {
                LINK: {"href": "https://api.example.com/dev/runs/run-1", "size": 50_002}
            }
            assert first["ok"] is True
            second = receiver.dedup_log[referenced.id]["data"]["outputs"]
            assert second["file"][LINK]["href"] == "https://api.example.com/dev/runs/run-2"
            assert all(len(seen.body) <= 2048 for seen in receiver.received)
    finally:
        hooks.close()


def test_given_another_tenant_s_events_then_its_subscriptions_only_get_them(hooks):
    with WebhookReceiver() as ours, WebhookReceiver() as theirs:
        hooks.subscribe(ours, ["*"])
        hooks.subscribe(theirs, ["*"], tenant="globex")
        hooks.fanout.fan_out(event("run.started"))

        hooks.drain()

        assert len(ours.received) == 1
        assert theirs.received == []


def test_given_a_batch_of_two_tenants_events_then_each_tenant_s_subscriptions_are_read_once(
    hooks, monkeypatch
):
    with WebhookReceiver() as ours, WebhookReceiver() as theirs:
        hooks.subscribe(ours, ["*"])
        hooks.subscribe(theirs, ["*"], tenant="globex")
        lookups: list[str] = []
        list_for_tenant = hooks.webhooks.list_for_tenant

        def counted(tenant_id: str) -> Any:
            lookups.append(tenant_id)
            return list_for_tenant(tenant_id)

        monkeypatch.setattr(hooks.webhooks, "list_for_tenant", counted)
        ours_events = [event(name) for name in ("run.started", "node.started", "run.succeeded")]
        theirs_events = [
            event(name).model_copy(update={"tenant": "globex"})
            for name in ("run.started", "run.failed")
        ]
        batch = [ours_events[0], theirs_events[0], ours_events[1], theirs_events[1], ours_events[2]]

        first = _fan_out_batch(hooks, batch)
        read_by_first = sorted(lookups)
        _fan_out_batch(hooks, [event("run.started", run_id="run-2")])
        hooks.drain()

        assert first["batchItemFailures"] == []
        assert read_by_first == ["acme", "globex"]
        # A later batch reads again: a subscription made meanwhile counts from then on.
        assert lookups[2:] == ["acme"]
        assert len(ours.received) == 4
        assert len(theirs.received) == 2


def _fan_out_batch(hooks: Webhooks, events: list[Event]) -> dict[str, Any]:
    """The fan-out function's work on one events-queue batch (EventBridge events as bodies)."""
    records = [
        {
            "messageId": f"message-{index}",
            "receiptHandle": f"receipt-{index}",
            "body": json.dumps(
                {
                    "source": "signoff",
                    "detail-type": item.type,
                    "detail": item.model_dump(mode="json"),
                }
            ),
            "attributes": {},
            "messageAttributes": {},
            "md5OfBody": "",
            "eventSource": "aws:sqs",
            "eventSourceARN": f"arn:aws:sqs:{REGION}:123456789012:events",
            "awsRegion": REGION,
        }
        for index, item in enumerate(events)
    ]
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    return process_partial_response(
        event={"Records": records},
        record_handler=hooks.fanout.batch().handle_record,
        processor=processor,
    )


# ---------------------------------------------------------------------- subscriptions


def test_given_subscriptions_then_they_are_tenant_scoped(hooks):
    with WebhookReceiver() as receiver:
        webhook = hooks.subscribe(receiver, ["run.*"])

        assert [w.webhook_id for w in hooks.service.list(TENANT)] == [webhook.webhook_id]
        assert hooks.service.list("globex") == []
        with pytest.raises(NotFound):
            hooks.service.get("globex", webhook.webhook_id)
        with pytest.raises(NotFound):
            hooks.service.delete("globex", webhook.webhook_id)
        with pytest.raises(NotFound):
            hooks.service.rotate_secret("globex", webhook.webhook_id)
        with pytest.raises(NotFound):
            hooks.service.deliveries("globex", webhook.webhook_id)

        hooks.service.delete(TENANT, webhook.webhook_id)

        assert hooks.service.list(TENANT) == []
        with pytest.raises(NotFound):
            hooks.service.delete(TENANT, webhook.webhook_id)


def test_given_a_deleted_subscription_then_queued_deliveries_are_dropped(hooks):
    with WebhookReceiver() as receiver:
        webhook = hooks.subscribe(receiver, ["run.*"])
        hooks.fanout.fan_out(event("run.started"))
        hooks.service.delete(TENANT, webhook.webhook_id)

        hooks.drain()

        assert receiver.received == []
        assert hooks.dead_lettered() == []


def test_given_private_networks_refused_then_a_metadata_url_is_400(tables):
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    service = WebhookService(
        DynamoWebhookRepository(tables["WebhooksTable"], dynamodb),
        DynamoDeliveryRepository(tables["WebhookDeliveriesTable"], dynamodb),
        WebhookUrlPolicy(AddressGuard(allow_private_network=False)),
    )

    with pytest.raises(InvalidInput) as refused:
        service.create(TENANT, url="https://169.254.169.254/latest", events=["*"])

    assert refused.value.field == "url"
    assert service.list(TENANT) == []


def test_given_the_guard_refuses_at_delivery_time_then_the_attempt_logs_it(hooks, tables):
    # A subscription created while private networks were allowed, delivered by a deployment
    # that refuses them (or a name that now resolves to a private address).
    with WebhookReceiver() as receiver:
        webhook = hooks.subscribe(receiver, ["run.*"])
        hooks.deliverer = WebhookDeliverer(
            hooks.webhooks,
            hooks.deliveries,
            hooks.sqs,
            hooks.queue,
            httpx.Client(transport=guarded_client(AddressGuard())._transport),
            schedule=RetrySchedule((0,), 1),
        )
        hooks.fanout.fan_out(event("run.started"))

        hooks.drain()

        assert receiver.received == []
        (delivery,) = hooks.service.deliveries(TENANT, webhook.webhook_id)[0]
        assert delivery.status == "failed"
        assert "loopback" in (delivery.attempts[0].error or "")


def test_given_a_duplicate_message_after_failure_then_it_is_dropped_not_retried(hooks):
    with WebhookReceiver(script=always(500)) as receiver:
        hooks.subscribe(receiver, ["run.*"])
        (message,) = hooks.fanout.fan_out(event("run.started"))
        hooks.drain()
        hooks.dead_lettered()
        hooks.sqs.send_message(QueueUrl=hooks.queue, MessageBody=message.model_dump_json())

        responses = hooks.drain()

        assert len(receiver.received) == MAX_ATTEMPTS
        assert responses[-1]["batchItemFailures"] == []
