"""Delivery: one attempt to POST one event to one subscription, signed, and its log entry.

The deliveries queue's messages come here one by one (the function reports failed ones as batch
item failures). The attempt number is the message's receive count. Each attempt:
- skips a delivery already settled (a duplicate message) and settles `disabled` one whose
  subscription is disabled, without sending; a deleted subscription's messages are dropped;
- POSTs the envelope with the Standard Webhooks headers (webhook-id = the event id, the same on
  every attempt; a fresh webhook-timestamp; one v1 signature per active secret) through the
  outbound address guard, without following redirects, within a short timeout;
- logs the attempt (time, status code, latency, error) with the delivery's new status:
  2xx succeeded; 410 Gone disables the subscription and settles the delivery `disabled`;
  anything else retries: the message is hidden for the schedule's next delay
  (ChangeMessageVisibility) and reported failed, or, on the last attempt, the delivery is logged
  `failed` first and the message is released to go to the dead-letter queue.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import httpx
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from signoff.errors import NotFound
from signoff.net import AddressGuard, AddressNotAllowed, guarded_client
from signoff.settings import Settings
from signoff.store.webhooks import (
    SETTLED_DELIVERY_STATUSES,
    DeliveryAttempt,
    DeliveryRecord,
    DeliveryRepository,
    DeliveryStatus,
    DynamoDeliveryRepository,
    DynamoWebhookRepository,
    WebhookRepository,
)
from signoff.webhooks.fanout import DEFAULT_RETENTION_SECONDS
from signoff.webhooks.messages import DeliveryMessage
from signoff.webhooks.retries import RetrySchedule
from signoff.webhooks.signing import signature_headers

logger = Logger(child=True)

USER_AGENT = "signoff-webhooks/1"
GONE = 410
_ERROR_TEXT_LIMIT = 300


class DeliveryFailed(Exception):
    """This attempt failed; the message stays in the queue (retried later or dead-lettered)."""


@dataclass(frozen=True)
class AttemptResult:
    status: DeliveryStatus
    attempt: DeliveryAttempt | None
    retry_in: int | None = None  # seconds until the next attempt; None: no more attempts


class WebhookDeliverer:
    def __init__(
        self,
        webhooks: WebhookRepository,
        deliveries: DeliveryRepository,
        sqs: Any,
        deliveries_queue_url: str,
        http: httpx.Client,
        *,
        schedule: RetrySchedule | None = None,
        retention_seconds: int = DEFAULT_RETENTION_SECONDS,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._webhooks = webhooks
        self._deliveries = deliveries
        self._sqs = sqs
        self._queue_url = deliveries_queue_url
        self._http = http
        self._schedule = schedule or RetrySchedule()
        self._retention = retention_seconds
        self._clock = clock

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        dynamodb_client: Any = None,
        sqs_client: Any = None,
        http: httpx.Client | None = None,
    ) -> WebhookDeliverer:
        # Redirects are not followed: a webhook endpoint answers where it was registered.
        client = http or guarded_client(
            AddressGuard(allow_private_network=settings.allow_private_network),
            timeout=settings.webhook_timeout_seconds,
            follow_redirects=False,
        )
        return cls(
            DynamoWebhookRepository(settings.require("webhooks_table"), dynamodb_client),
            DynamoDeliveryRepository(settings.require("webhook_deliveries_table"), dynamodb_client),
            sqs_client or boto3.client("sqs"),
            settings.require("webhook_deliveries_queue_url"),
            client,
            schedule=RetrySchedule.of(settings.webhook_retry_delays, settings.webhook_max_attempts),
            retention_seconds=settings.webhook_delivery_retention_days * 24 * 60 * 60,
        )

    def handle_record(self, record: SQSRecord) -> None:
        """One deliveries-queue record; raises DeliveryFailed to leave it in the queue."""
        message = DeliveryMessage.model_validate_json(record.body)
        attempt = int(record.attributes.approximate_receive_count or 1)
        result = self.attempt(message, attempt)
        if result.attempt is None or result.status not in ("pending", "failed"):
            return  # delivered, disabled, or nothing sent (already settled, subscription gone)
        # Retry later, or (last attempt, logged failed) now: the next receive exceeds the
        # queue's maxReceiveCount and SQS moves the message to the dead-letter queue.
        self._sqs.change_message_visibility(
            QueueUrl=self._queue_url,
            ReceiptHandle=record.receipt_handle,
            VisibilityTimeout=result.retry_in or 0,
        )
        error = result.attempt.error if result.attempt is not None else None
        raise DeliveryFailed(
            f"delivery {message.delivery_id} to {message.webhook_id}, attempt {attempt}: {error}"
        )

    def attempt(self, message: DeliveryMessage, attempt: int) -> AttemptResult:
        """Deliver once (see the module doc) and log it; what came of it."""
        existing = self._deliveries.get(message.tenant_id, message.webhook_id, message.delivery_id)
        if existing is not None and existing.status in SETTLED_DELIVERY_STATUSES:
            return AttemptResult(status=existing.status, attempt=None)
        try:
            webhook = self._webhooks.get(message.tenant_id, message.webhook_id)
        except NotFound:
            logger.info("webhook deleted: delivery dropped", extra={"webhook": message.webhook_id})
            return AttemptResult(status="disabled", attempt=None)
        record = existing or _record_of(message, self._now_iso())
        if webhook.status != "active":
            skipped = DeliveryAttempt(
                attempt=attempt,
                at=self._now_iso(),
                latency_ms=0,
                error="not sent: the subscription is disabled",
            )
            self._log(record, skipped, "disabled", None)
            return AttemptResult(status="disabled", attempt=skipped)

        sent_at = self._clock()
        at = _iso(sent_at)
        body = json.dumps(message.event, separators=(",", ":"), ensure_ascii=False)
        headers = {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            **signature_headers(
                webhook.signing_secrets(at),
                message_id=message.event_id,
                timestamp=sent_at,
                body=body,
            ),
        }
        started = time.monotonic()
        status_code: int | None = None
        error: str | None = None
        try:
            response = self._http.post(webhook.url, content=body.encode("utf-8"), headers=headers)
            status_code = response.status_code
            if not response.is_success:
                error = f"the endpoint answered HTTP {status_code}"
        except (httpx.HTTPError, AddressNotAllowed, OSError) as failure:
            error = f"{type(failure).__name__}: {failure}"[:_ERROR_TEXT_LIMIT]
        latency_ms = int((time.monotonic() - started) * 1000)
        done = DeliveryAttempt(
            attempt=attempt, at=at, status_code=status_code, latency_ms=latency_ms, error=error
        )

        if status_code is not None and 200 <= status_code < 300:
            self._log(record, done, "succeeded", None)
            return AttemptResult(status="succeeded", attempt=done)
        if status_code == GONE:
            self._webhooks.disable(
                message.tenant_id,
                message.webhook_id,
                "the endpoint answered 410 Gone",
                self._now_iso(),
            )
            self._log(record, done, "disabled", None)
            return AttemptResult(status="disabled", attempt=done)
        if self._schedule.is_last(attempt):
            self._log(record, done, "failed", None)
            return AttemptResult(status="failed", attempt=done)
        delay = self._schedule.delay_after(attempt)
        self._log(record, done, "pending", _iso(sent_at + timedelta(seconds=delay)))
        return AttemptResult(status="pending", attempt=done, retry_in=delay)

    def _log(
        self,
        record: DeliveryRecord,
        attempt: DeliveryAttempt,
        status: DeliveryStatus,
        next_attempt_at: str | None,
    ) -> None:
        expires_at = int(self._clock().timestamp()) + self._retention
        logged = self._deliveries.record_attempt(
            record, attempt, status, next_attempt_at=next_attempt_at, expires_at=expires_at
        )
        if logged is None:
            logger.info(
                "delivery already settled: attempt not logged",
                extra={"webhook": record.webhook_id, "delivery": record.delivery_id},
            )

    def _now_iso(self) -> str:
        return _iso(self._clock())


def _record_of(message: DeliveryMessage, now: str) -> DeliveryRecord:
    return DeliveryRecord(
        tenant_id=message.tenant_id,
        webhook_id=message.webhook_id,
        delivery_id=message.delivery_id,
        event_id=message.event_id,
        event_type=message.event_type,
        run_id=message.event.get("run_id"),
        created_at=now,
        updated_at=now,
    )


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
