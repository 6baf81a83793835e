"""Tenants: the operator creates one with its rate plan and gets its first admin key back."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime

from signoff.auth.keys import ApiKeyService, iso, utc_now
from signoff.auth.principal import ADMIN
from signoff.errors import InvalidInput
from signoff.ratelimit.plans import RatePlan
from signoff.store.api_keys import ApiKeyRecord
from signoff.store.tenants import TenantRecord, TenantRepository

TENANT_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
FIRST_KEY_NAME = "admin"


class TenantService:
    def __init__(
        self,
        tenants: TenantRepository,
        keys: ApiKeyService,
        plans: Mapping[str, RatePlan],
        *,
        default_plan: str = "free",
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        if default_plan not in plans:
            raise ValueError(f"the default plan {default_plan!r} is not one of the plans")
        self._tenants = tenants
        self._keys = keys
        self._plans = dict(plans)
        self._default_plan = default_plan
        self._clock = clock

    @property
    def plans(self) -> dict[str, RatePlan]:
        return dict(self._plans)

    def create_tenant(
        self,
        name: str,
        *,
        tenant_id: str | None = None,
        plan: str | None = None,
        rate_limit: RatePlan | None = None,
        admin_key: str | None = None,
    ) -> tuple[TenantRecord, ApiKeyRecord, str]:
        """The new tenant, its first admin key's record and the key (shown this once)."""
        tenant_id = tenant_id or f"tn_{uuid.uuid4().hex[:20]}"
        if not TENANT_ID_PATTERN.match(tenant_id):
            raise InvalidInput(
                "a tenant id is 1 to 64 letters, digits, '-' or '_', starting with a letter or "
                "digit",
                field="tenant_id",
            )
        plan = plan or self._default_plan
        if plan not in self._plans:
            raise InvalidInput(
                f"unknown plan {plan!r} (plans: {', '.join(sorted(self._plans))})", field="plan"
            )
        if not name or len(name) > 200:
            raise InvalidInput("a tenant's name is 1 to 200 characters", field="name")
        record = self._tenants.create(
            TenantRecord(
                tenant_id=tenant_id,
                name=name,
                plan=plan,
                created_at=iso(self._clock()),
                rate_limit=rate_limit.model_dump() if rate_limit is not None else None,
            )
        )
        key_record, key = self._keys.create_key(
            tenant_id, FIRST_KEY_NAME, ADMIN, plaintext=admin_key
        )
        return record, key_record, key

    def list_tenants(self) -> list[TenantRecord]:
        return sorted(self._tenants.list(), key=lambda record: record.created_at)

    def limit_of(self, tenant: TenantRecord | None) -> tuple[str, RatePlan]:
        """The tenant's plan name and the limit it gets (its own, else its plan's)."""
        plan = tenant.plan if tenant is not None and tenant.plan in self._plans else None
        name = plan or self._default_plan
        if tenant is not None and tenant.rate_limit:
            return name, RatePlan.model_validate(tenant.rate_limit)
        return name, self._plans[name]
