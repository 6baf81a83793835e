"""API keys: `sk_` + random url-safe characters, shown once, stored as their sha256."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import uuid
from dataclasses import dataclass

from signoff.errors import InvalidInput, Unauthorized
from signoff.store import utc_now_iso
from signoff.store.api_keys import ApiKeyRecord, ApiKeyRepository

KEY_PREFIX = "sk_"
_RANDOM_LENGTH = 40
_SHOWN_PREFIX_LENGTH = 8
_ROLES = frozenset({"admin"})
# What a key may look like: printable, no spaces; the limit keeps hashing cheap on hostile input.
_KEY_SHAPE = re.compile(r"^[\x21-\x7e]{8,256}$")
_BEARER = re.compile(r"^\s*bearer\s+(?P<key>\S+)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Principal:
    """Who a request acts for, as the authorizer hands it to the api function."""

    tenant_id: str
    key_id: str
    role: str


def hash_key(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode("utf-8")).hexdigest()


def generate_key() -> str:
    # token_urlsafe(n) yields about 1.3 characters per byte: draw enough, keep exactly 40.
    return KEY_PREFIX + secrets.token_urlsafe(_RANDOM_LENGTH)[:_RANDOM_LENGTH]


class ApiKeyService:
    def __init__(self, repository: ApiKeyRepository) -> None:
        self._keys = repository

    def create_key(
        self,
        tenant_id: str,
        name: str,
        role: str = "admin",
        plaintext: str | None = None,
    ) -> tuple[ApiKeyRecord, str]:
        """A new key for `tenant_id`: its record and the key itself, which is never stored."""
        if role not in _ROLES:
            raise InvalidInput(f"unknown role {role!r}", field="role")
        if not tenant_id:
            raise InvalidInput("a key needs a tenant", field="tenant_id")
        key = plaintext if plaintext is not None else generate_key()
        if not _KEY_SHAPE.match(key):
            raise InvalidInput(
                "a key is 8 to 256 printable characters without spaces", field="plaintext"
            )
        record = ApiKeyRecord(
            key_id=f"key_{uuid.uuid4().hex}",
            tenant_id=tenant_id,
            prefix=key[:_SHOWN_PREFIX_LENGTH],
            name=name,
            role=role,
            key_hash=hash_key(key),
            created_at=utc_now_iso(),
        )
        return self._keys.create(record), key

    def authorize(self, authorization_header: str | None) -> Principal:
        """The principal a `Bearer <key>` header stands for; Unauthorized for anything else."""
        if not authorization_header:
            raise Unauthorized("the Authorization header is missing")
        match = _BEARER.match(authorization_header)
        if match is None or not _KEY_SHAPE.match(match["key"]):
            raise Unauthorized("the Authorization header is not 'Bearer <key>'")
        presented_hash = hash_key(match["key"])
        record = self._keys.get_by_hash(presented_hash)
        # The lookup is by hash, so timing reveals nothing about the key; comparing again in
        # constant time keeps it so if the store ever matches more loosely than byte equality.
        if record is None or not hmac.compare_digest(record.key_hash, presented_hash):
            raise Unauthorized("unknown API key")
        if record.revoked:
            raise Unauthorized("this API key was revoked")
        return Principal(tenant_id=record.tenant_id, key_id=record.key_id, role=record.role)
