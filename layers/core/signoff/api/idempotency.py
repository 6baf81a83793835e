"""Idempotency-Key for POST routes, on Powertools' idempotency utility and its DynamoDB table.

A route that starts something (a run, a review decision, a webhook delivery) passes its work to
`IdempotentRequests.run` with the request's Idempotency-Key and what the request asks for:
- a key seen before with the same request answers the first response again (status and body)
  and does nothing new;
- a key seen before with another request (other body or path) is 422 `idempotency_key_reused`;
- a key whose first request is still being answered is 409 `idempotency_in_progress`;
- a first request that fails (raises) leaves no record, so it can be retried with the same key.
Keys are scoped by tenant and operation, remembered `ttl_seconds` (24 h by default).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)

from signoff.errors import (
    ConfigurationError,
    IdempotencyInProgress,
    IdempotencyKeyReused,
    InvalidInput,
)

HEADER = "Idempotency-Key"
_KEY_SHAPE = re.compile(r"^[\x21-\x7e]{1,255}$")


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: Any
    replayed: bool = False


def check_key(key: str | None) -> str | None:
    if key is None:
        return None
    if not _KEY_SHAPE.match(key):
        raise InvalidInput(
            f"{HEADER} is 1 to 255 printable characters without spaces", field=HEADER
        )
    return key


class IdempotentRequests:
    def __init__(
        self, table_name: str | None, client: Any = None, *, ttl_seconds: int = 24 * 60 * 60
    ) -> None:
        self._table = table_name
        self._client = client
        self._ttl = ttl_seconds

    def run(
        self,
        *,
        tenant_id: str,
        operation: str,
        key: str | None,
        request: dict[str, Any],
        action: Callable[[], StoredResponse],
        lambda_context: Any = None,
    ) -> StoredResponse:
        """`action()`'s response, or the first response to this key (see the module doc)."""
        key = check_key(key)
        if key is None:
            return action()
        if not self._table:
            raise ConfigurationError("setting idempotency_table is missing")
        if self._client is None:
            self._client = boto3.client("dynamodb")
        # One configuration and persistence layer per request: Powertools keeps per-call state
        # on them, and the local cloud answers requests on several threads.
        config = IdempotencyConfig(
            event_key_jmespath="[tenant_id, operation, key]",
            payload_validation_jmespath="request",
            raise_on_no_idempotency_key=True,
            expires_after_seconds=self._ttl,
            hash_function="sha256",
            response_hook=lambda response, _record: {**response, "replayed": True},
        )
        if lambda_context is not None and hasattr(lambda_context, "get_remaining_time_in_millis"):
            # A first request cut off by the function's timeout does not block its key for good.
            config.register_lambda_context(lambda_context)
        persistence = DynamoDBPersistenceLayer(table_name=self._table, boto3_client=self._client)

        @idempotent_function(
            data_keyword_argument="envelope", persistence_store=persistence, config=config
        )
        def once(envelope: dict[str, Any]) -> dict[str, Any]:
            response = action()
            return {"status": response.status, "body": response.body}

        envelope = {"tenant_id": tenant_id, "operation": operation, "key": key, "request": request}
        try:
            stored = once(envelope=envelope)
        except IdempotencyValidationError as error:
            raise IdempotencyKeyReused(
                f"{HEADER} {key!r} was used for another request: use a new key for a new request"
            ) from error
        except IdempotencyAlreadyInProgressError as error:
            raise IdempotencyInProgress(
                f"the first request with {HEADER} {key!r} is still being answered: retry shortly"
            ) from error
        return StoredResponse(
            status=int(stored["status"]),
            body=stored["body"],
            replayed=bool(stored.get("replayed")),
        )
