"""The authorizer's use case: an Authorization header -> the Principal it stands for.

Three kinds of credential: the operator key (its sha256 is deployment configuration), a tenant's
API key (found by its sha256), and a short-lived token (a signed JWT). The principal carries its
tenant's rate limits, so the api limits requests without reading the tenant again; API Gateway
caches the answer per credential for ReauthorizeEvery seconds.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import boto3
from aws_lambda_powertools import Logger

from signoff.auth.keys import ApiKeyService, bearer_credential, constant_time_equal, hash_key
from signoff.auth.keys import principal_of as key_principal
from signoff.auth.principal import OPERATOR, Principal
from signoff.auth.tenants import TenantService
from signoff.auth.tokens import SecretSource, TokenService, looks_like_token
from signoff.errors import NotFound, Unauthorized
from signoff.ratelimit.plans import resolve_plans
from signoff.settings import Settings
from signoff.store.api_keys import DynamoApiKeyRepository
from signoff.store.tenants import DynamoTenantRepository, TenantRecord, TenantRepository

logger = Logger(child=True)

OPERATOR_KEY_ID = "operator"
# A key's last-used time is written at most this often: a busy key costs one write a minute.
LAST_USED_EVERY_SECONDS = 60


class Authorizer:
    def __init__(
        self,
        keys: ApiKeyService,
        tenants: TenantService,
        tenant_records: TenantRepository | None,
        tokens: TokenService | None = None,
        *,
        operator_key_hash: str | None = None,
    ) -> None:
        self._keys = keys
        self._tenants = tenants
        self._tenant_records = tenant_records
        self._tokens = tokens
        self._operator_key_hash = (operator_key_hash or "").strip().lower() or None

    @classmethod
    def from_settings(
        cls, settings: Settings, *, dynamodb_client: Any = None, secrets_client: Any = None
    ) -> Authorizer:
        dynamodb = dynamodb_client or boto3.client("dynamodb")
        keys = ApiKeyService(DynamoApiKeyRepository(settings.require("api_keys_table"), dynamodb))
        tenant_records = (
            DynamoTenantRepository(settings.tenants_table, dynamodb)
            if settings.tenants_table
            else None
        )
        tenants = TenantService(
            tenant_records or _NoTenants(),
            keys,
            resolve_plans(settings.rate_limit_plans),
            default_plan=settings.default_plan,
        )
        tokens = (
            TokenService(SecretSource(settings.token_secret_ref, secrets_client))
            if settings.token_secret_ref
            else None
        )
        return cls(
            keys, tenants, tenant_records, tokens, operator_key_hash=settings.operator_key_hash
        )

    def authorize(self, authorization_header: str | None) -> Principal:
        credential = bearer_credential(authorization_header)
        if looks_like_token(credential):
            if self._tokens is None:
                raise Unauthorized("tokens are not accepted here")
            return self._with_limits(self._tokens.verify(credential))
        is_operator = self._operator_key_hash is not None and constant_time_equal(
            hash_key(credential), self._operator_key_hash
        )
        try:
            record = self._keys.authenticate(credential)
        except Unauthorized:
            if is_operator:
                return Principal(tenant_id="", key_id=OPERATOR_KEY_ID, role=OPERATOR, operator=True)
            raise
        try:
            self._keys.record_use(record, every_seconds=LAST_USED_EVERY_SECONDS)
        except Exception:
            # Bookkeeping must not lock a valid key out.
            logger.warning("could not record a key's use", extra={"key_id": record.key_id})
        principal = key_principal(record)
        if is_operator:
            principal = replace(principal, operator=True)
        return self._with_limits(principal)

    def _with_limits(self, principal: Principal) -> Principal:
        tenant = (
            self._tenant_records.find(principal.tenant_id)
            if self._tenant_records is not None and principal.tenant_id
            else None
        )
        plan, limit = self._tenants.limit_of(tenant)
        return replace(principal, plan=plan, tenant_limit=limit)


class _NoTenants:
    """A deployment without a Tenants table: every tenant gets the default plan."""

    def create(self, record: TenantRecord) -> TenantRecord:
        raise NotFound("tenants are not configured here")

    def find(self, tenant_id: str) -> TenantRecord | None:
        return None

    def get(self, tenant_id: str) -> TenantRecord:
        raise NotFound(f"tenant {tenant_id} not found")

    def list(self) -> list[TenantRecord]:
        return []
