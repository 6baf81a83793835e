"""The deliveries queue's message: one (event, subscription) pair, from fan-out to delivery."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class DeliveryMessage(BaseModel):
    model_config = ConfigDict(frozen=True)

    tenant_id: str
    webhook_id: str
    delivery_id: str
    # The event envelope as it is sent (already shrunk): the body of every attempt.
    event: dict[str, Any]

    @property
    def event_id(self) -> str:
        return str(self.event["id"])

    @property
    def event_type(self) -> str:
        return str(self.event["type"])
