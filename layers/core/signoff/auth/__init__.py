"""Who may call the API: tenants, API keys, short-lived tokens, and the authorizer's use case."""

from signoff.auth.keys import ApiKeyService, hash_key
from signoff.auth.principal import Principal

__all__ = ["ApiKeyService", "Principal", "hash_key"]
