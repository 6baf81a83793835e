"""Fan-out: each lifecycle event -> one deliveries-queue message per subscription it matches.

The events queue receives the project bus's events (an EventBridge rule on source `signoff`), so
each message body is an EventBridge event whose `detail` is the envelope. For each event, the
tenant's active subscriptions whose patterns match get a pending delivery in the log and a
message carrying the shrunk envelope. A record that fails is retried by SQS (the function reports
it as a batch item failure); a delivery already logged and attempted is not queued again, so a
retried fan-out does not deliver twice what was already delivered. Within one batch of records
(FanoutBatch, what the function handles per invocation) each tenant's subscriptions are read once:
a run's events arrive together, and reading the webhooks table again for each would only repeat
the answer.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from signoff.events.envelope import Event
from signoff.settings import Settings
from signoff.store import utc_now_iso
from signoff.store.webhooks import (
    DeliveryRecord,
    DeliveryRepository,
    DynamoDeliveryRepository,
    DynamoWebhookRepository,
    WebhookRecord,
    WebhookRepository,
    delivery_id_of,
)
from signoff.webhooks.messages import DeliveryMessage
from signoff.webhooks.patterns import matches
from signoff.webhooks.shrinking import DEFAULT_MAX_BYTES, shrink_event

logger = Logger(child=True)

SQS_BATCH_LIMIT = 10
DEFAULT_RETENTION_SECONDS = 30 * 24 * 60 * 60


class FanoutFailed(Exception):
    """Some messages of an event could not be queued; the event is retried."""


class WebhookFanout:
    def __init__(
        self,
        webhooks: WebhookRepository,
        deliveries: DeliveryRepository,
        sqs: Any,
        deliveries_queue_url: str,
        *,
        api_url: str | None = None,
        max_payload_bytes: int = DEFAULT_MAX_BYTES,
        retention_seconds: int = DEFAULT_RETENTION_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._webhooks = webhooks
        self._deliveries = deliveries
        self._sqs = sqs
        self._queue_url = deliveries_queue_url
        self._api_url = api_url
        self._max_bytes = max_payload_bytes
        self._retention = retention_seconds
        self._clock = clock

    @classmethod
    def from_settings(
        cls, settings: Settings, *, dynamodb_client: Any = None, sqs_client: Any = None
    ) -> WebhookFanout:
        return cls(
            DynamoWebhookRepository(settings.require("webhooks_table"), dynamodb_client),
            DynamoDeliveryRepository(settings.require("webhook_deliveries_table"), dynamodb_client),
            sqs_client or boto3.client("sqs"),
            settings.require("webhook_deliveries_queue_url"),
            api_url=settings.api_url,
            max_payload_bytes=settings.webhook_max_payload_bytes,
            retention_seconds=settings.webhook_delivery_retention_days * 24 * 60 * 60,
        )

    def batch(self) -> FanoutBatch:
        """A fan-out of one batch of records, reading each tenant's subscriptions once."""
        return FanoutBatch(self)

    def handle_record(
        self, record: SQSRecord, read: dict[str, list[WebhookRecord]] | None = None
    ) -> None:
        """One events-queue record (an EventBridge event); raises to have it retried."""
        body = json.loads(record.body)
        envelope = body.get("detail", body) if isinstance(body, dict) else body
        self.fan_out(Event.model_validate(envelope), read)

    def fan_out(
        self, event: Event, read: dict[str, list[WebhookRecord]] | None = None
    ) -> list[DeliveryMessage]:
        """Queue the event for every matching active subscription of its tenant; the messages.
        `read` holds the tenants' subscriptions read already (by tenant id), and keeps those
        read now; without it they are read for this event alone."""
        subscriptions = [
            webhook
            for webhook in self._subscriptions(event.tenant, read)
            if webhook.status == "active" and matches(webhook.events, event.type)
        ]
        if not subscriptions:
            return []
        shrunk = shrink_event(
            event.model_dump(mode="json"), api_url=self._api_url, max_bytes=self._max_bytes
        )
        messages = [
            DeliveryMessage(
                tenant_id=event.tenant,
                webhook_id=webhook.webhook_id,
                delivery_id=delivery_id_of(event.time, event.id),
                event=shrunk,
            )
            for webhook in subscriptions
            if self._log_pending(webhook, event)
        ]
        self._send(messages)
        return messages

    def _subscriptions(
        self, tenant_id: str, read: dict[str, list[WebhookRecord]] | None
    ) -> list[WebhookRecord]:
        if read is None:
            return self._webhooks.list_for_tenant(tenant_id)
        if tenant_id not in read:
            read[tenant_id] = self._webhooks.list_for_tenant(tenant_id)
        return read[tenant_id]

    def _log_pending(self, webhook: WebhookRecord, event: Event) -> bool:
        """Log the delivery as pending; False when it is logged already and past its first
        attempt (a retried fan-out must not queue it again)."""
        now = utc_now_iso()
        record = DeliveryRecord(
            tenant_id=event.tenant,
            webhook_id=webhook.webhook_id,
            delivery_id=delivery_id_of(event.time, event.id),
            event_id=event.id,
            event_type=event.type,
            run_id=event.run_id,
            created_at=now,
            updated_at=now,
            next_attempt_at=now,
        )
        if self._deliveries.create_pending(record, int(self._clock()) + self._retention):
            return True
        existing = self._deliveries.get(event.tenant, webhook.webhook_id, record.delivery_id)
        return existing is None or (existing.status == "pending" and not existing.attempts)

    def _send(self, messages: list[DeliveryMessage]) -> None:
        failed: list[str] = []
        for start in range(0, len(messages), SQS_BATCH_LIMIT):
            chunk = messages[start : start + SQS_BATCH_LIMIT]
            response = self._sqs.send_message_batch(
                QueueUrl=self._queue_url,
                Entries=[
                    {"Id": str(index), "MessageBody": message.model_dump_json()}
                    for index, message in enumerate(chunk)
                ],
            )
            failed += [
                f"{chunk[int(entry['Id'])].webhook_id}: {entry.get('Message', entry.get('Code'))}"
                for entry in response.get("Failed", [])
            ]
        if failed:
            raise FanoutFailed(f"{len(failed)} deliveries could not be queued: {failed}")


class FanoutBatch:
    """One batch of events-queue records fanned out together: each tenant's subscriptions are
    read once, for the first of its events, and serve the rest of the batch (a subscription
    made meanwhile applies from the next batch on)."""

    def __init__(self, fanout: WebhookFanout) -> None:
        self._fanout = fanout
        self._read: dict[str, list[WebhookRecord]] = {}

    def handle_record(self, record: SQSRecord) -> None:
        self._fanout.handle_record(record, self._read)
