"""The webhook subscriptions API's use cases: create, list, read, delete, rotate, deliveries.

Every call is scoped by tenant: another tenant's webhook id is NotFound. A secret is answered
in full twice only: by `create` and by `rotate_secret`.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from signoff.net import AddressGuard
from signoff.settings import Settings
from signoff.store import utc_now_iso
from signoff.store.webhooks import (
    DeliveryRecord,
    DeliveryRepository,
    DynamoDeliveryRepository,
    DynamoWebhookRepository,
    WebhookRecord,
    WebhookRepository,
)
from signoff.webhooks.patterns import check_patterns
from signoff.webhooks.signing import generate_secret
from signoff.webhooks.urls import WebhookUrlPolicy

WEBHOOK_ID_PREFIX = "wh_"
DEFAULT_SECRET_GRACE_SECONDS = 24 * 60 * 60


def new_webhook_id() -> str:
    return WEBHOOK_ID_PREFIX + secrets.token_hex(12)


@dataclass(frozen=True)
class RotatedSecret:
    webhook: WebhookRecord
    secret: str
    previous_secret_expires_at: str


class WebhookService:
    def __init__(
        self,
        webhooks: WebhookRepository,
        deliveries: DeliveryRepository,
        urls: WebhookUrlPolicy,
        *,
        secret_grace_seconds: int = DEFAULT_SECRET_GRACE_SECONDS,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._webhooks = webhooks
        self._deliveries = deliveries
        self._urls = urls
        self._grace = secret_grace_seconds
        self._clock = clock

    @classmethod
    def from_settings(cls, settings: Settings, dynamodb_client: Any = None) -> WebhookService:
        return cls(
            DynamoWebhookRepository(settings.require("webhooks_table"), dynamodb_client),
            DynamoDeliveryRepository(settings.require("webhook_deliveries_table"), dynamodb_client),
            WebhookUrlPolicy(AddressGuard(allow_private_network=settings.allow_private_network)),
            secret_grace_seconds=settings.webhook_secret_grace_seconds,
        )

    def create(
        self, tenant_id: str, *, url: str, events: list[str], description: str | None = None
    ) -> WebhookRecord:
        """A new active subscription with a fresh secret (the record holds it: answer it once)."""
        patterns = check_patterns(events)
        checked_url = self._urls.check(url)
        now = utc_now_iso()
        return self._webhooks.create(
            WebhookRecord(
                tenant_id=tenant_id,
                webhook_id=new_webhook_id(),
                url=checked_url,
                events=patterns,
                description=description,
                secret=generate_secret(),
                created_at=now,
                updated_at=now,
            )
        )

    def list(self, tenant_id: str) -> list[WebhookRecord]:
        records = self._webhooks.list_for_tenant(tenant_id)
        return sorted(records, key=lambda record: (record.created_at, record.webhook_id))

    def get(self, tenant_id: str, webhook_id: str) -> WebhookRecord:
        return self._webhooks.get(tenant_id, webhook_id)

    def delete(self, tenant_id: str, webhook_id: str) -> None:
        self._webhooks.delete(tenant_id, webhook_id)

    def rotate_secret(
        self, tenant_id: str, webhook_id: str, grace_seconds: int | None = None
    ) -> RotatedSecret:
        """A new secret; the previous one keeps signing (beside it) for the grace period."""
        record = self._webhooks.get(tenant_id, webhook_id)
        grace = self._grace if grace_seconds is None else grace_seconds
        ends = _iso(self._clock() + timedelta(seconds=grace))
        secret = generate_secret()
        rotated = self._webhooks.rotate_secret(record, secret, ends, utc_now_iso())
        return RotatedSecret(webhook=rotated, secret=secret, previous_secret_expires_at=ends)

    def deliveries(
        self, tenant_id: str, webhook_id: str, *, limit: int = 50, after: str | None = None
    ) -> tuple[list[DeliveryRecord], str | None]:
        """A page of the subscription's deliveries, newest first, and the next page's cursor."""
        self._webhooks.get(tenant_id, webhook_id)
        return self._deliveries.list_for_webhook(tenant_id, webhook_id, limit=limit, after=after)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
