"""Why a call to a chat model failed. Every class is a NodeExecutionError, so its name is the
error type a node's Retry/Catch and error strategies see: keep the names stable.

LlmProviderError and its subclasses come from the provider (worth a retry when it is rate
limiting, timing out or failing on its side); the others are this deployment's configuration or
a model's answer the node cannot use.
"""

from __future__ import annotations

from typing import Any

from signoff.errors import NodeExecutionError


class LlmProviderError(NodeExecutionError):
    """The provider failed to answer: a server error, a broken connection, an unreadable answer."""

    def __init__(self, message: str, *, provider: str, status: int | None = None, **extra: Any):
        super().__init__(message, details={"provider": provider, "status": status, **extra})
        self.provider = provider
        self.status = status


class LlmRateLimited(LlmProviderError):
    """The provider throttled the request (HTTP 429, ThrottlingException)."""

    def __init__(self, message: str, *, provider: str, retry_after: float | None = None, **extra):
        super().__init__(message, provider=provider, status=429, retry_after=retry_after, **extra)
        self.retry_after = retry_after


class LlmTimeout(LlmProviderError):
    """The provider did not answer within the provider's timeout."""


class LlmAuthenticationFailed(LlmProviderError):
    """The provider refused the credentials (HTTP 401/403, AccessDeniedException)."""


class LlmRequestRejected(LlmProviderError):
    """The provider refused the request itself (unknown model, prompt too long, bad params)."""


class LlmProviderNotConfigured(NodeExecutionError):
    """The node names a provider this deployment does not configure."""


class LlmCredentialsUnavailable(NodeExecutionError):
    """The API key reference could not be resolved (missing secret, no permission)."""


class LlmOutputInvalid(NodeExecutionError):
    """The model answered, but not in the shape the node asked for (e.g. structured output that
    is not JSON)."""
