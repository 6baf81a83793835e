"""API keys: `sk_` + random url-safe characters, shown once, stored as their sha256.

Admin keys act for their whole tenant; app keys for one workflow (as a Dify app key does). A key
may expire; rotating one makes a new key and gives the old one an end `grace` later, so clients
can move over without an outage.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from signoff.auth.principal import ADMIN, APP, Principal
from signoff.errors import Conflict, InvalidInput, Unauthorized
from signoff.ratelimit.plans import RatePlan
from signoff.store import parse_iso
from signoff.store.api_keys import ApiKeyRecord, ApiKeyRepository

KEY_PREFIX = "sk_"
_RANDOM_LENGTH = 40
SHOWN_PREFIX_LENGTH = 8
KEY_ROLES = frozenset({ADMIN, APP})
# What a key may look like: printable, no spaces; the limit keeps hashing cheap on hostile input.
_KEY_SHAPE = re.compile(r"^[\x21-\x7e]{8,256}$")
# A bearer credential: a key, or a token (a JWT, longer).
_CREDENTIAL_SHAPE = re.compile(r"^[\x21-\x7e]{8,4096}$")
_BEARER = re.compile(r"^\s*bearer\s+(?P<credential>\S+)\s*$", re.IGNORECASE)
MAX_NAME_LENGTH = 100

__all__ = ["ApiKeyService", "Principal", "bearer_credential", "generate_key", "hash_key"]


def hash_key(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode("utf-8")).hexdigest()


def generate_key() -> str:
    # token_urlsafe(n) yields about 1.3 characters per byte: draw enough, keep exactly 40.
    return KEY_PREFIX + secrets.token_urlsafe(_RANDOM_LENGTH)[:_RANDOM_LENGTH]


def bearer_credential(authorization_header: str | None) -> str:
    """The credential of a `Bearer <credential>` header; Unauthorized for anything else."""
    if not authorization_header:
        raise Unauthorized("the Authorization header is missing")
    match = _BEARER.match(authorization_header)
    if match is None or not _CREDENTIAL_SHAPE.match(match["credential"]):
        raise Unauthorized("the Authorization header is not 'Bearer <key>'")
    return match["credential"]


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class WorkflowLookup(Protocol):
    def get(self, tenant_id: str, workflow_id: str) -> Any:
        """The workflow's record; NotFound when the tenant has no such workflow."""
        ...


class ApiKeyService:
    def __init__(
        self,
        repository: ApiKeyRepository,
        *,
        workflows: WorkflowLookup | None = None,
        rotation_grace_seconds: int = 24 * 60 * 60,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._keys = repository
        self._workflows = workflows
        self._grace = rotation_grace_seconds
        self._clock = clock

    # -------------------------------------------------------------- managing keys

    def create_key(
        self,
        tenant_id: str,
        name: str,
        role: str = ADMIN,
        plaintext: str | None = None,
        *,
        workflow_id: str | None = None,
        expires_at: datetime | None = None,
        rate_limit: RatePlan | None = None,
        rotated_from: str | None = None,
    ) -> tuple[ApiKeyRecord, str]:
        """A new key for `tenant_id`: its record and the key itself, which is never stored."""
        if role not in KEY_ROLES:
            raise InvalidInput(f"unknown role {role!r}: admin or app", field="role")
        if not tenant_id:
            raise InvalidInput("a key needs a tenant", field="tenant_id")
        if not name or len(name) > MAX_NAME_LENGTH:
            raise InvalidInput(f"a key's name is 1 to {MAX_NAME_LENGTH} characters", field="name")
        if role == APP:
            if not workflow_id:
                raise InvalidInput("an app key names its workflow", field="workflow_id")
            if self._workflows is not None:
                self._workflows.get(tenant_id, workflow_id)  # NotFound for another tenant's
        elif workflow_id is not None:
            raise InvalidInput("only app keys name a workflow", field="workflow_id")
        if expires_at is not None and expires_at <= self._clock():
            raise InvalidInput("expires_at must be in the future", field="expires_at")
        key = plaintext if plaintext is not None else generate_key()
        if not _KEY_SHAPE.match(key):
            raise InvalidInput(
                "a key is 8 to 256 printable characters without spaces", field="plaintext"
            )
        record = ApiKeyRecord(
            key_id=f"key_{uuid.uuid4().hex}",
            tenant_id=tenant_id,
            prefix=key[:SHOWN_PREFIX_LENGTH],
            name=name,
            role=role,
            key_hash=hash_key(key),
            created_at=iso(self._clock()),
            workflow_id=workflow_id,
            expires_at=iso(expires_at) if expires_at is not None else None,
            rate_limit=rate_limit.model_dump() if rate_limit is not None else None,
            rotated_from=rotated_from,
        )
        return self._keys.create(record), key

    def list_keys(self, tenant_id: str) -> list[ApiKeyRecord]:
        return sorted(self._keys.list_for_tenant(tenant_id), key=lambda record: record.created_at)

    def get_key(self, tenant_id: str, key_id: str) -> ApiKeyRecord:
        return self._keys.get(tenant_id, key_id)

    def delete_key(self, tenant_id: str, key_id: str) -> None:
        """The key stops working; the tenant's last working admin key cannot be deleted."""
        record = self._keys.get(tenant_id, key_id)
        if record.role == ADMIN and self.is_usable(record):
            others = [
                other
                for other in self._keys.list_for_tenant(tenant_id)
                if other.key_id != key_id and other.role == ADMIN and self.is_usable(other)
            ]
            if not others:
                raise Conflict(
                    f"{key_id} is the tenant's last admin key: create another before deleting it"
                )
        self._keys.delete(tenant_id, key_id)

    def rotate_key(
        self, tenant_id: str, key_id: str, grace_seconds: int | None = None
    ) -> tuple[ApiKeyRecord, str, ApiKeyRecord]:
        """A new key like `key_id` (the new record and key), and the old record with its end."""
        old = self._keys.get(tenant_id, key_id)
        if not self.is_usable(old):
            raise Conflict(f"{key_id} no longer works: create a new key instead")
        grace = self._grace if grace_seconds is None else grace_seconds
        new, key = self.create_key(
            tenant_id,
            old.name,
            old.role,
            workflow_id=old.workflow_id,
            expires_at=parse_iso(old.expires_at) if old.expires_at else None,
            rate_limit=RatePlan.model_validate(old.rate_limit) if old.rate_limit else None,
            rotated_from=old.key_id,
        )
        ends = iso(self._clock() + timedelta(seconds=grace))
        retired = self._keys.retire(old, ends, replaced_by=new.key_id)
        return new, key, retired

    # -------------------------------------------------------------- using keys

    def is_usable(self, record: ApiKeyRecord) -> bool:
        if record.revoked:
            return False
        return record.expires_at is None or parse_iso(record.expires_at) > self._clock()

    def authenticate(self, key: str) -> ApiKeyRecord:
        """The record of a working key; Unauthorized for an unknown, revoked or expired one."""
        if not _KEY_SHAPE.match(key):
            raise Unauthorized("the Authorization header is not 'Bearer <key>'")
        presented_hash = hash_key(key)
        record = self._keys.get_by_hash(presented_hash)
        # The lookup is by hash, so timing reveals nothing about the key; comparing again in
        # constant time keeps it so if the store ever matches more loosely than byte equality.
        if record is None or not hmac.compare_digest(record.key_hash, presented_hash):
            raise Unauthorized("unknown API key")
        if record.revoked:
            raise Unauthorized("this API key was revoked")
        if not self.is_usable(record):
            raise Unauthorized("this API key has expired")
        return record

    def authorize(self, authorization_header: str | None) -> Principal:
        """The principal a `Bearer <key>` header stands for; Unauthorized for anything else."""
        record = self.authenticate(bearer_credential(authorization_header))
        return principal_of(record)

    def record_use(self, record: ApiKeyRecord, *, every_seconds: int = 60) -> bool:
        """Note that the key was used, writing at most once every `every_seconds`."""
        now = self._clock()
        if record.last_used_at and parse_iso(record.last_used_at) > now - timedelta(
            seconds=every_seconds
        ):
            return False
        return self._keys.touch_last_used(
            record.key_hash, iso(now), iso(now - timedelta(seconds=every_seconds))
        )


def principal_of(record: ApiKeyRecord) -> Principal:
    return Principal(
        tenant_id=record.tenant_id,
        key_id=record.key_id,
        role=record.role,
        workflow_id=record.workflow_id,
        expires_at=int(parse_iso(record.expires_at).timestamp()) if record.expires_at else None,
        key_limit=RatePlan.model_validate(record.rate_limit) if record.rate_limit else None,
    )


def constant_time_equal(left: str, right: str) -> bool:
    return hmac.compare_digest(left.encode(), right.encode())
