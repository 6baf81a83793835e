"""Who a request acts for, and how the authorizer hands that to the api function.

API Gateway passes an authorizer's `context` to the integration as flat strings (no nesting, no
null), so a Principal travels as the string map `to_context` makes and `from_context` reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from signoff.ratelimit.plans import RatePlan

ADMIN = "admin"
APP = "app"
OPERATOR = "operator"
TOKEN = "token"
ROLES = frozenset({ADMIN, APP, OPERATOR, TOKEN})


@dataclass(frozen=True)
class Principal:
    """The caller: a tenant's admin key, an app key (one workflow), the operator, or a token."""

    tenant_id: str
    key_id: str
    role: str
    workflow_id: str | None = None
    """The one workflow an app key acts for."""
    operator: bool = False
    """The operator key (it may also be a tenant's admin key, as the local cloud's dev key is)."""
    scopes: tuple[str, ...] = ()
    """What a token may do (signoff.auth.scopes)."""
    subject: str | None = None
    """Who holds a token: the person who decides with it."""
    token_id: str | None = None
    expires_at: int | None = None
    """Unix seconds after which the key or token no longer works (checked again by the api, as
    API Gateway caches the authorizer's answer)."""
    plan: str | None = None
    tenant_limit: RatePlan | None = None
    key_limit: RatePlan | None = None

    @property
    def actor(self) -> str:
        """Who acts, for records such as "decided by": a token's holder, else the key."""
        return self.subject if self.role == TOKEN and self.subject else self.key_id

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN

    @property
    def has_tenant(self) -> bool:
        return bool(self.tenant_id)

    def to_context(self) -> dict[str, str]:
        context = {"tenant_id": self.tenant_id, "key_id": self.key_id, "role": self.role}
        optional: dict[str, Any] = {
            "workflow_id": self.workflow_id,
            "operator": "true" if self.operator else None,
            "scopes": " ".join(self.scopes) or None,
            "subject": self.subject,
            "token_id": self.token_id,
            "expires_at": self.expires_at,
            "plan": self.plan,
        }
        for prefix, limit in (("tenant", self.tenant_limit), ("key", self.key_limit)):
            if limit is not None:
                optional[f"{prefix}_rpm"] = limit.requests_per_minute
                optional[f"{prefix}_burst"] = limit.burst
        context.update({name: str(value) for name, value in optional.items() if value is not None})
        return context

    @classmethod
    def from_context(cls, context: Mapping[str, Any]) -> Principal:
        def text(name: str) -> str | None:
            value = context.get(name)
            return str(value) if value not in (None, "") else None

        def number(name: str) -> int | None:
            value = text(name)
            return int(float(value)) if value is not None else None

        def limit(prefix: str) -> RatePlan | None:
            rpm, burst = number(f"{prefix}_rpm"), number(f"{prefix}_burst")
            if rpm is None or burst is None:
                return None
            return RatePlan(requests_per_minute=rpm, burst=burst)

        return cls(
            tenant_id=text("tenant_id") or "",
            key_id=text("key_id") or "",
            role=text("role") or "",
            workflow_id=text("workflow_id"),
            operator=text("operator") == "true",
            scopes=tuple((text("scopes") or "").split()),
            subject=text("subject"),
            token_id=text("token_id"),
            expires_at=number("expires_at"),
            plan=text("plan"),
            tenant_limit=limit("tenant"),
            key_limit=limit("key"),
        )
