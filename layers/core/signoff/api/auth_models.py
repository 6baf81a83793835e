"""Request and response bodies of /tenants, /keys and /tokens (part of /openapi.json)."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from signoff.ratelimit.plans import RatePlan
from signoff.store.api_keys import ApiKeyRecord
from signoff.store.tenants import TenantRecord


class RateLimitBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    requests_per_minute: int = Field(ge=1, le=1_000_000)
    burst: int = Field(ge=1, le=1_000_000)

    def plan(self) -> RatePlan:
        return RatePlan(requests_per_minute=self.requests_per_minute, burst=self.burst)


# ---------------------------------------------------------------- keys


class CreateKeyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, description="What the key is for.")
    role: Literal["admin", "app"] = Field(
        default="admin",
        description="admin: the whole tenant. app: one workflow (its runs and the /v1 routes).",
    )
    workflow_id: str | None = Field(
        default=None, max_length=64, description="The workflow an app key acts for."
    )
    expires_at: AwareDatetime | None = Field(
        default=None, description="When the key stops working (ISO 8601 with a zone)."
    )
    rate_limit: RateLimitBody | None = Field(
        default=None, description="The key's own limit, under its tenant's plan."
    )


class RotateKeyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    grace_seconds: int | None = Field(
        default=None,
        ge=0,
        le=7 * 24 * 60 * 60,
        description="How long the old key keeps working (default 24 hours).",
    )


class KeyView(BaseModel):
    """A key as listed: its prefix, never the key."""

    id: str
    name: str
    prefix: str = Field(description="The key's first characters, to recognise it by.")
    role: str
    workflow_id: str | None = None
    created_at: str
    expires_at: str | None = None
    last_used_at: str | None = Field(default=None, description="Recorded at most once a minute.")
    rate_limit: RateLimitBody | None = None
    rotated_from: str | None = None
    replaced_by: str | None = None

    @classmethod
    def of(cls, record: ApiKeyRecord) -> KeyView:
        return cls(
            id=record.key_id,
            name=record.name,
            prefix=record.prefix,
            role=record.role,
            workflow_id=record.workflow_id,
            created_at=record.created_at,
            expires_at=record.expires_at,
            last_used_at=record.last_used_at,
            rate_limit=RateLimitBody.model_validate(record.rate_limit)
            if record.rate_limit
            else None,
            rotated_from=record.rotated_from,
            replaced_by=record.replaced_by,
        )


class CreatedKey(KeyView):
    key: str = Field(description="The key itself: shown this once, stored only as a hash.")


class KeyList(BaseModel):
    data: list[KeyView]


class RotatedKey(BaseModel):
    key: CreatedKey = Field(description="The new key (shown this once).")
    previous: KeyView = Field(description="The old key, with the end of its grace period.")


# ---------------------------------------------------------------- tenants


class CreateTenantRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    tenant_id: str | None = Field(
        default=None,
        max_length=64,
        description="Letters, digits, '-' and '_'; generated when left out.",
    )
    plan: str | None = Field(
        default=None, max_length=64, description="free, pro, enterprise or a configured plan."
    )
    rate_limit: RateLimitBody | None = Field(
        default=None, description="The tenant's own limit, instead of its plan's."
    )


class TenantView(BaseModel):
    id: str
    name: str
    plan: str
    created_at: str
    rate_limit: RateLimitBody = Field(description="The limit its requests get.")

    @classmethod
    def of(cls, record: TenantRecord, limit: RatePlan) -> TenantView:
        return cls(
            id=record.tenant_id,
            name=record.name,
            plan=record.plan,
            created_at=record.created_at,
            rate_limit=RateLimitBody(
                requests_per_minute=limit.requests_per_minute, burst=limit.burst
            ),
        )


class TenantCreated(BaseModel):
    tenant: TenantView
    key: CreatedKey = Field(description="The tenant's first admin key (shown this once).")


class TenantList(BaseModel):
    data: list[TenantView]


# ---------------------------------------------------------------- tokens


class CreateTokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scopes: list[str] = Field(
        min_length=1,
        max_length=20,
        description="runs:<run_id>:read, runs:<run_id>:reviews, workflows:<workflow_id>:runs.",
    )
    subject: str = Field(
        min_length=1, max_length=200, description="Who holds the token (who decides with it)."
    )
    ttl_seconds: int | None = Field(
        default=None, ge=1, le=86400, description="Lifetime; 15 minutes by default."
    )


class TokenIssued(BaseModel):
    token: str = Field(description="Send as Authorization: Bearer <token>.")
    token_type: Literal["Bearer"] = "Bearer"
    token_id: str
    subject: str
    scopes: list[str]
    expires_at: str
    expires_in: int = Field(description="Seconds from now.")
