"""API keys by reference: `secretsmanager:<secret id>` (GetSecretValue) or `ssm:<parameter name>`
(GetParameter, decrypted). Fetched on first use and kept for the life of the process (one cold
start): a rotated key reaches a function on its next cold start.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import boto3
from aws_lambda_powertools.utilities.parameters import SecretsProvider, SSMProvider
from aws_lambda_powertools.utilities.parameters.exceptions import (
    GetParameterError,
    TransformParameterError,
)

from signoff.providers.errors import LlmCredentialsUnavailable

# Powertools caches with a time to live; "for this process" is as long as a Lambda lives.
_FOR_THE_PROCESS = 24 * 60 * 60


class CredentialResolver:
    """Resolves `api_key_ref`s; the boto3 clients are made on first use unless injected."""

    def __init__(
        self,
        *,
        secrets_client: Any = None,
        ssm_client: Any = None,
        client_factory: Callable[[str], Any] = boto3.client,
    ) -> None:
        self._clients = {"secretsmanager": secrets_client, "ssm": ssm_client}
        self._client_factory = client_factory
        self._providers: dict[str, SecretsProvider | SSMProvider] = {}
        self._lock = threading.Lock()

    def resolve(self, reference: str) -> str:
        """The secret a reference names. A Secrets Manager secret may hold the key itself or a
        JSON object with an `api_key` field."""
        scheme, _, name = reference.partition(":")
        if scheme not in ("secretsmanager", "ssm") or not name:
            raise LlmCredentialsUnavailable(
                f"{reference!r} is not a credential reference "
                "('secretsmanager:<secret id>' or 'ssm:<parameter name>')"
            )
        try:
            if scheme == "ssm":
                value = self._provider("ssm").get(name, max_age=_FOR_THE_PROCESS, decrypt=True)
            else:
                value = self._provider("secretsmanager").get(name, max_age=_FOR_THE_PROCESS)
        except (GetParameterError, TransformParameterError) as error:
            raise LlmCredentialsUnavailable(
                f"the credential {reference} could not be read: {error}"
            ) from error
        if isinstance(value, bytes):
            value = value.decode("utf-8")
        if not isinstance(value, str) or not value.strip():
            raise LlmCredentialsUnavailable(f"the credential {reference} is empty")
        return _api_key_in(value.strip(), reference)

    def _provider(self, scheme: str) -> SecretsProvider | SSMProvider:
        with self._lock:
            provider = self._providers.get(scheme)
            if provider is None:
                client = self._clients[scheme] or self._client_factory(scheme)
                provider = (
                    SSMProvider(boto3_client=client)
                    if scheme == "ssm"
                    else SecretsProvider(boto3_client=client)
                )
                self._providers[scheme] = provider
            return provider


def _api_key_in(value: str, reference: str) -> str:
    if not value.startswith("{"):
        return value
    try:
        document = json.loads(value)
    except ValueError:
        return value
    key = document.get("api_key") if isinstance(document, dict) else None
    if not isinstance(key, str) or not key:
        raise LlmCredentialsUnavailable(
            f"the credential {reference} holds a JSON object without a string api_key"
        )
    return key
