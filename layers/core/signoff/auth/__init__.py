"""API keys: generate, hash, authorize."""

from signoff.auth.keys import ApiKeyService, Principal, hash_key

__all__ = ["ApiKeyService", "Principal", "hash_key"]
