"""Request and response bodies of /webhooks (part of /openapi.json)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from signoff.store.webhooks import DeliveryRecord, WebhookRecord


class CreateWebhookRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(
        min_length=1,
        max_length=2048,
        description="Where events are POSTed: an https URL whose host is a public address.",
    )
    events: list[str] = Field(
        min_length=1,
        max_length=50,
        description="Event types (run.failed), families (run.*, node.*, review.*) or * for all.",
    )
    description: str | None = Field(default=None, max_length=500)


class RotateSecretRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    grace_seconds: int | None = Field(
        default=None,
        ge=0,
        le=7 * 24 * 60 * 60,
        description="How long deliveries are also signed with the old secret (default 24 hours).",
    )


class WebhookView(BaseModel):
    """A subscription as listed: never its secret."""

    id: str
    url: str
    events: list[str]
    description: str | None = None
    status: Literal["active", "disabled"]
    created_at: str
    updated_at: str
    disabled_at: str | None = None
    disabled_reason: str | None = None
    previous_secret_expires_at: str | None = Field(
        default=None, description="Until then deliveries are also signed with the old secret."
    )

    @classmethod
    def of(cls, record: WebhookRecord) -> WebhookView:
        return cls(
            id=record.webhook_id,
            url=record.url,
            events=record.events,
            description=record.description,
            status=record.status,
            created_at=record.created_at,
            updated_at=record.updated_at,
            disabled_at=record.disabled_at,
            disabled_reason=record.disabled_reason,
            previous_secret_expires_at=record.previous_secret_expires_at,
        )


class CreatedWebhook(WebhookView):
    secret: str = Field(
        description="The signing secret (whsec_...): shown this once; verify deliveries with it."
    )


class RotatedWebhookSecret(BaseModel):
    webhook: WebhookView
    secret: str = Field(description="The new signing secret: shown this once.")
    previous_secret_expires_at: str = Field(
        description="Deliveries carry signatures by both secrets until then."
    )


class WebhookList(BaseModel):
    data: list[WebhookView]


class DeliveryAttemptView(BaseModel):
    attempt: int = Field(description="1 for the first attempt.")
    at: str = Field(description="When it was sent (ISO 8601 UTC).")
    status_code: int | None = Field(description="The endpoint's HTTP status; null: no answer.")
    latency_ms: int
    error: str | None = None


class DeliveryView(BaseModel):
    id: str
    event_id: str = Field(description="The event's id: the webhook-id header of every attempt.")
    event_type: str
    run_id: str | None = None
    status: Literal["pending", "succeeded", "failed", "disabled"]
    attempts: list[DeliveryAttemptView]
    created_at: str
    updated_at: str
    next_attempt_at: str | None = Field(
        default=None, description="When the next attempt is due (pending deliveries)."
    )

    @classmethod
    def of(cls, record: DeliveryRecord) -> DeliveryView:
        return cls(
            id=record.delivery_id,
            event_id=record.event_id,
            event_type=record.event_type,
            run_id=record.run_id,
            status=record.status,
            attempts=[
                DeliveryAttemptView.model_validate(attempt.model_dump())
                for attempt in record.attempts
            ],
            created_at=record.created_at,
            updated_at=record.updated_at,
            next_attempt_at=record.next_attempt_at if record.status == "pending" else None,
        )


class DeliveryList(BaseModel):
    data: list[DeliveryView]
    next_cursor: str | None = Field(
        default=None, description="Pass as `after` for the next (older) page; null at the end."
    )
